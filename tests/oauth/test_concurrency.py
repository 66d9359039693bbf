"""Single use under concurrency: parallel redemptions of one code or refresh token."""

from __future__ import annotations

import threading

from tests.helpers import bearer, obtain_code, obtain_tokens, redeem, refresh

PARALLEL = 6


def _race(app, send) -> list:
    """Run ``send(test_client)`` in PARALLEL threads released at once; return responses."""
    barrier = threading.Barrier(PARALLEL)
    results: list = [None] * PARALLEL

    def worker(i: int) -> None:
        browser = app.test_client()
        barrier.wait(timeout=10)
        results[i] = send(browser)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_parallel_code_redemptions_issue_tokens_once(app, client, factory):
    """Of parallel redemptions of one code exactly one succeeds; the reuse revokes it."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    responses = _race(app, lambda b: redeem(b, rp, code, verifier))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (PARALLEL - 1)
    assert all(r.json["error"] == "invalid_grant" for r in responses if r.status_code == 400)
    winner = next(r.json for r in responses if r.status_code == 200)
    # RFC 6749 §4.1.2: the replays revoke what the first redemption issued.
    assert client.get("/userinfo", headers=bearer(winner["access_token"])).status_code == 401


def test_parallel_refreshes_rotate_once(app, client, factory):
    """Of parallel uses of one refresh token exactly one gets a new pair."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    responses = _race(app, lambda b: refresh(b, rp, tokens["refresh_token"]))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (PARALLEL - 1)
    winner = next(r.json for r in responses if r.status_code == 200)
    # The losers were replays of a rotated token: the whole family is revoked.
    assert refresh(client, rp, winner["refresh_token"]).status_code == 400
