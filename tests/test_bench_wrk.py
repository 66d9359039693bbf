"""The benchmark's reading of wrk's report: counts taken as printed, failures kept apart,
and a report without counts refused rather than read as zero."""

import pytest

from bench import wrk

REPORT = """Running 4s test @ http://127.0.0.1:41234/token
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.12ms    2.01ms  31.40ms   80.00%
    Req/Sec   440.12     31.20   510.00     70.00%
  3521 requests in 4.01s, 1.71MB read
"""


def test_a_clean_report_counts_every_request_done():
    run = wrk.parse(REPORT + "Requests/sec:    878.05\n")
    assert (run.done, run.failed, run.seconds) == (3521, 0, 4.01)
    assert run.first_failure is None


def test_answers_other_than_2xx_or_3xx_and_broken_sockets_are_failures():
    report = REPORT + (
        "  Socket errors: connect 2, read 40, write 1, timeout 3\n  Non-2xx or 3xx responses: 21\n"
    )
    run = wrk.parse(report)
    assert run.done == 3500
    assert run.failed == 21 + 2 + 40 + 1 + 3
    assert "21 responses" in run.first_failure


def test_durations_in_other_units_are_read_as_seconds():
    report = REPORT.replace("in 4.01s", "in 1.50m")
    assert wrk.parse(report).seconds == 90.0


def test_a_report_without_counts_is_an_error():
    with pytest.raises(RuntimeError, match="no request count"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_script_carries_method_body_and_headers_and_refuses_what_lua_would_misread():
    request = wrk.Fixed("POST", "/token", {"Authorization": "Basic YTpi"}, "grant_type=x")
    assert wrk._script(request) == (
        'wrk.method = "POST"\n'
        'wrk.body = "grant_type=x"\n'
        'wrk.headers["Authorization"] = "Basic YTpi"\n'
    )
    for bad in ('say "hi"', "back\\slash", "new\nline", "é"):
        with pytest.raises(ValueError):
            wrk._script(wrk.Fixed("GET", "/", {"X-Test": bad}))
