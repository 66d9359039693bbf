"""The benchmark's instruction counts (bench/instructions.py): callgrind's totals read
strictly, the requests those of the HTTP table, and, under valgrind, counts that only
cover the repetitions (twice the repetitions, twice the count; the same run twice, the
same count) and a runner whose app refuses a request stopping the count with its reason.

The callgrind tests skip without valgrind; with REQUIRE_VALGRIND=1 (CI) they fail."""

from __future__ import annotations

import os

import pytest

from bench import instructions
from bench.served import ROOT, Seeded, bare_env
from tests.helpers import ClientInfo

DUMP = """version: 1
creator: callgrind-3.19.0
cmd: python bench/instructions_runner.py
events: Ir
summary: 0
totals: 39651598
"""


def test_the_totals_line_is_the_count():
    assert instructions.totals(DUMP) == 39651598


def test_a_dump_without_totals_is_an_error_not_zero():
    with pytest.raises(RuntimeError, match="no totals"):
        instructions.totals(DUMP.replace("totals: 39651598\n", ""))


def test_the_plan_sends_the_http_tables_requests():
    """The endpoints counted, in the HTTP table's order, with its requests: a machine's
    token with client_secret_basic, the code flow's PKCE and client authentication."""
    seeded = Seeded(
        web=ClientInfo("bench-web", "web-secret", "https://rp.example/cb"),
        machine=ClientInfo("bench-machine", "machine-secret", ""),
    )
    plan = instructions.plan_for(seeded)
    assert [e["name"] for e in plan["endpoints"]] == list(instructions.COUNTED)
    token = next(e for e in plan["endpoints"] if e["name"] == "token_cc")
    assert token["method"] == "POST" and token["path"] == "/token"
    assert token["headers"]["Authorization"] == seeded.machine.basic_auth()["Authorization"]
    assert "grant_type=client_credentials" in token["body"]
    assert "X-Forwarded-Proto" not in token["headers"]  # the runner adds it to every request
    flow = plan["flow"]
    assert "code_challenge_method=S256" in flow["authorize"] and "nonce" not in flow["authorize"]
    assert "code_verifier=" in flow["token_form"]
    assert flow["token_headers"] == seeded.web.basic_auth()


@pytest.fixture
def callgrind():
    if not instructions.available():
        reason = "valgrind is not installed"
        if os.environ.get("REQUIRE_VALGRIND") == "1":
            pytest.fail(f"REQUIRE_VALGRIND=1 but {reason}")
        pytest.skip(reason)


def _bare(requests: int, path: str = "/ping") -> int:
    plan = {"endpoints": [{"name": "bare", "kind": "fixed", "method": "GET", "path": path}]}
    counted = instructions.run("bench.bare_app:app", bare_env(ROOT), plan, requests, 30, "-")
    return counted[0].instructions


def test_counts_cover_the_repetitions_only_and_repeat(callgrind):
    """Start-up and warm-up are not counted: 40 repetitions count twice 20, and a
    second run of 20 counts the same (exactly, here, busy machine or not: counting is
    switched while the runner is blocked in a read, from a fresh collector state)."""
    twenty, forty, again = _bare(20), _bare(40), _bare(20)
    assert 1.98 < forty / twenty < 2.02
    assert abs(again - twenty) / twenty < 0.001


def test_a_request_the_app_refuses_stops_the_count_with_its_reason(callgrind):
    with pytest.raises(RuntimeError, match="404"):
        _bare(5, path="/nowhere")
