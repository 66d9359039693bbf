"""Scaling out as deployed: two gunicorn instances over one PostgreSQL and one Redis,
behind one TLS-terminating proxy that hands each request to the next instance in turn.
A flow started on one instance finishes on the other, and the rate limits are shared.

Its own installation (schema, issuer, Redis prefix), so its low sign-in limit and its
instances never meet the other production tests' deployments.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import urlopen

import pytest

from tests.conftest import postgres_url_or_skip, private_schema
from tests.e2e.conftest import free_port
from tests.faults import end_postgres_connections
from tests.helpers import NEW_PASSWORD, ClientInfo, bearer, csrf_token, form_action, pkce_pair
from tests.production.deployment import (
    PLAYGROUND_ID,
    STARTUP_TIMEOUT,
    Deployment,
    forget_rate_limits,
    gunicorn_argv,
    install,
    process,
    redis_or_skip,
    wait_until_serving,
)
from tests.production.https_servers import tls_terminating_proxy

INSTANCES = 2
#: Sign-in attempts allowed per client address, for all instances together.
SIGN_IN_LIMIT = 4
#: What the instances call themselves to PostgreSQL.
APPLICATION_NAME = f"vestibule_scale_{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def cluster(tls_files, mail_server, relying_party, workdir) -> Iterator[tuple]:
    """Two gunicorn instances (http, one proxy hop trusted) sharing a database and a
    Redis prefix, behind the round-robin TLS proxy on the issuer's port."""
    base_url = postgres_url_or_skip()
    redis_or_skip()
    logs = workdir / "scale-out"
    logs.mkdir()
    with ExitStack() as stack:
        database_url = stack.enter_context(private_schema(base_url, "vestibule_scale_out"))
        # Names the instances' connections in pg_stat_activity (the restart test).
        database_url += f"&application_name={APPLICATION_NAME}"
        installation = install(database_url, mail_server.port, tls_files, relying_party)
        prefix = f"vestibule-scale-{secrets.token_hex(6)}"
        stack.callback(forget_rate_limits, prefix)
        env = installation.env | {
            "RATELIMIT_KEY_PREFIX": prefix,
            "PROXY_FIX_HOPS": "1",
            "SIGN_IN_RATE_LIMIT": f"{SIGN_IN_LIMIT} per minute",
        }
        seeded = installation.seeded
        cluster = Deployment(
            "scale-out",
            installation.issuer,
            tls_files,
            mail_server,
            seeded.person,
            seeded.forgetful,
            seeded.admin,
            seeded.rp,
            seeded.back_office,
            prefix,
        )
        ports = [free_port() for _ in range(INSTANCES)]
        for n, port in enumerate(ports):
            name = f"gunicorn-{n + 1}"
            cluster.logs[name] = logs / f"{name}.log"
            argv = gunicorn_argv(port, None)
            cluster.processes[name] = stack.enter_context(process(argv, env, cluster.logs[name]))
        for port in ports:
            _wait_for_instance(cluster, port)
        stack.enter_context(tls_terminating_proxy(installation.port, ports, tls_files))
        wait_until_serving(cluster)
        redirect_uri = f"{installation.issuer}/playground/callback"
        yield cluster, ClientInfo(PLAYGROUND_ID, seeded.playground_secret, redirect_uri)


def _wait_for_instance(cluster: Deployment, port: int) -> None:
    """Until the instance answers /healthz on its own port (or a process died)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        cluster.check_alive()
        try:
            with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"instance on {port} did not start:\n{cluster.log_tail()}")
        time.sleep(0.2)


def _upstream(answer) -> str:
    return answer.headers["X-Test-Upstream"]


def test_an_invited_registration_carries_across_instances(cluster):
    """Short link → /authorize → registration form → POST → resumed request → code →
    token → userinfo, each step on the other instance than the step before."""
    cluster, playground_client = cluster
    office = cluster.client()
    token = office.post(
        "/token",
        form={"grant_type": "client_credentials", "scope": "invitations:write"},
        headers=cluster.back_office.basic_auth(),
    )
    assert token.status == 200, token.text
    created = office.post(
        "/api/v1/invitations",
        json_body={"email": "lin@example.com", "client_id": PLAYGROUND_ID, "notify": False},
        headers=bearer(token.json()["access_token"]),
    )
    assert created.status == 201, created.text

    browser = cluster.client()
    steps = []
    landing = browser.get(urlsplit(created.json()["short_link"]).path)
    steps.append(landing)
    assert landing.status in (302, 303), landing.text
    invite_id = parse_qs(urlsplit(landing.headers["Location"]).query)["invite_id"][0]

    verifier, challenge = pkce_pair()
    redirect_uri = playground_client.redirect_uri
    query = {
        "response_type": "code",
        "client_id": PLAYGROUND_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "invite_id": invite_id,
        "view_type": "register",
    }
    paused = browser.get("/authorize?" + urlencode(query))
    steps.append(paused)
    assert paused.status == 303, paused.text
    page = browser.get(_path(paused.headers["Location"]))
    steps.append(page)
    assert page.status == 200, page.text
    form = {"csrf_token": csrf_token(page.text), "email": "lin@example.com"}
    registered = browser.post(
        form_action(page.text, "registration"),
        form={**form, "password": NEW_PASSWORD},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    steps.append(registered)
    assert registered.status == 303, registered.text
    resumed = browser.get(_path(registered.headers["Location"]))
    steps.append(resumed)
    assert resumed.status in (302, 303), resumed.text
    location = resumed.headers["Location"]
    assert location.startswith(redirect_uri), location
    code = parse_qs(urlsplit(location).query)["code"][0]

    playground = cluster.client()
    tokens = playground.post(
        "/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        headers=playground_client.basic_auth(),
    )
    steps.append(tokens)
    assert tokens.status == 200, tokens.text
    info = playground.get("/userinfo", headers=bearer(tokens.json()["access_token"]))
    steps.append(info)
    assert info.status == 200 and info.json()["email"] == "lin@example.com"

    served_by = [_upstream(step) for step in steps]
    assert len(set(served_by)) == INSTANCES
    # The registration was posted to one instance and resumed on the other.
    assert _upstream(registered) != _upstream(resumed)


def test_the_sign_in_limit_is_shared_by_the_instances(cluster):
    """The per-address sign-in limit counts attempts on every instance together (in
    Redis): the attempt after the limit is refused, whichever instance gets it."""
    cluster, _ = cluster
    answers = []
    for n in range(SIGN_IN_LIMIT + 1):
        browser = cluster.client()
        token = browser.form_token("/login")
        if n % 2:  # one request more, so the next POST goes to the other instance
            browser.get("/healthz")
        answers.append(
            browser.post(
                "/login",
                form={"csrf_token": token, "email": f"nobody{n}@example.com", "password": "x"},
                headers={"Sec-Fetch-Site": "same-origin"},
            )
        )
    assert [a.status for a in answers] == [400] * SIGN_IN_LIMIT + [429]
    assert len({_upstream(a) for a in answers}) == INSTANCES


def test_a_database_restart_costs_no_request(cluster):
    """PostgreSQL ends every connection of both instances, as a restart does, moments
    after they were used: the next requests, on every instance, are answered (each
    worker notices its dead connections before using them), none with a 503."""
    cluster, _ = cluster
    office = cluster.client()

    def token():
        return office.post(
            "/token",
            form={"grant_type": "client_credentials", "scope": "invitations:read"},
            headers=cluster.back_office.basic_auth(),
        )

    def restart() -> int:
        return end_postgres_connections(
            postgres_url_or_skip(), "application_name", APPLICATION_NAME
        )

    warm = [token() for _ in range(8)]
    assert [a.status for a in warm] == [200] * len(warm), warm[0].text
    assert restart() >= INSTANCES

    after = [token() for _ in range(12)]
    assert [a.status for a in after] == [200] * len(after), [a.text for a in after]
    assert len({_upstream(a) for a in after}) == INSTANCES
    assert restart() >= INSTANCES  # they had connected anew


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")
