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


FLOW = wrk.CodeFlow(
    authorize="/authorize?response_type=code&client_id=web",
    token="/token",
    cookies=["session=one", "session=two"],
    headers={"X-Forwarded-Proto": "https"},
    token_headers={"Authorization": "Basic YTpi"},
    token_form="grant_type=authorization_code&code_verifier=v",
)


def test_a_flow_run_counts_flows_and_the_scripts_failures_plus_broken_sockets():
    report = REPORT + (
        "  Socket errors: connect 0, read 1, write 0, timeout 0\n"
        "  Non-2xx or 3xx responses: 3\n"
        "Requests/sec:    878.05\n"
        "flows: 1750, failed: 3, first: 400: invalid_grant\n"
    )
    run = wrk._flows(wrk.parse(report), report)
    # The 3 answers not 2xx/3xx are the script's 3 failures, counted once.
    assert (run.done, run.failed, run.seconds) == (1750, 4, 4.01)
    assert run.first_failure == "400: invalid_grant"
    clean = REPORT + "flows: 1760, failed: 0\n"
    assert wrk._flows(wrk.parse(clean), clean).first_failure is None


def test_a_flow_run_without_the_scripts_count_is_an_error():
    with pytest.raises(RuntimeError, match="no count"):
        wrk._flows(wrk.parse(REPORT), REPORT)


def test_the_flow_script_carries_the_flow_and_a_nonce_prefix_of_its_own():
    script, again = wrk._flow_script(FLOW, 2), wrk._flow_script(FLOW, 2)
    assert f"AUTHORIZE = {wrk._lua(FLOW.authorize)}" in script
    assert 'COOKIES = {"session=one", "session=two"}' in script
    assert '["Authorization"] = "Basic YTpi"' in script
    assert "THREADS = 2" in script
    run_line = next(line for line in script.splitlines() if line.startswith("RUN = "))
    assert run_line not in again  # a second run must not send the first one's nonces
    with pytest.raises(ValueError):
        wrk._flow_script(wrk.CodeFlow(**{**FLOW.__dict__, "cookies": ['session="quoted"']}), 2)
