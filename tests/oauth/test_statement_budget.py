"""SQL statements per protocol request: deterministic, so budgets are tests (speed is
measured by ``make bench``). A second validation pass, a row re-read after a commit or
a lost joined load shows up here as one statement too many."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.helpers import (
    authorize_params,
    authorize_url,
    bearer,
    pkce_pair,
    post_as,
    query,
    redeem,
    sign_in,
)

#: Statements each request may run, in the steady state (keys read, client known).
BUDGETS = {
    "discovery": 0,
    "jwks": 0,
    # browser session with its account, client, nonce replay check, code insert
    "authorize_signed_in": 4,
    # the same, plus the account's roles, with MFA_FOR_ADMIN_ROLES (on in production)
    "authorize_signed_in_roles_checked": 5,
    # client, code with its account, claim the code, insert the tokens
    "token_authorization_code": 4,
    # client, refresh token with its account, claim it (and retire its access token), insert
    "token_refresh": 4,
    # client, insert
    "token_client_credentials": 2,
    # token with its account
    "userinfo": 1,
    # client, token with its account
    "introspection": 2,
}
#: The signed-in authorization-code flow end to end (authorize + token).
FLOW_BUDGET = 8


class StatementCounter:
    """Counts the statements the app's engine runs."""

    def __init__(self):
        self.statements: list[str] = []
        #: The isolation level each statement ran under (None: the engine's default).
        self.isolation: list[str | None] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)
        self.isolation.append(context.execution_options.get("isolation_level"))

    @contextmanager
    def measuring(self):
        """Count only what runs inside the block; yields the list."""
        self.statements.clear()
        self.isolation.clear()
        yield self.statements


@pytest.fixture
def count(app, monkeypatch):
    """A counter attached to the engine (and the key state trusted for the test)."""
    monkeypatch.setitem(app.config, "SIGNING_KEYS_RECHECK", 3600)
    counter = StatementCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def signed_in(client, factory):
    """A first-party client, a signed-in browser and a warm server (one flow done, so
    the signing key is read and parsed)."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    code, verifier, _ = _code(client, rp)
    assert redeem(client, rp, code, verifier).status_code == 200
    client.get("/jwks.json")
    return rp


def _code(client, rp) -> tuple[str, str, str]:
    verifier, challenge = pkce_pair()
    response = client.get(authorize_url(authorize_params(rp, challenge)))
    assert response.status_code in (302, 303), response.data
    return query(response.location)["code"], verifier, response.location


def _assert_within(statements: list[str], budget: int) -> None:
    assert len(statements) == budget, "\n".join(s.split("\n")[0][:100] for s in statements)


def test_discovery_and_jwks_run_no_sql(client, count, signed_in):
    """The metadata and JWKS documents come from memory."""
    for name, path in [("discovery", "/.well-known/openid-configuration"), ("jwks", "/jwks.json")]:
        with count.measuring() as statements:
            assert client.get(path).status_code == 200
        _assert_within(statements, BUDGETS[name])


def test_signed_in_code_flow_stays_within_budget(client, count, signed_in):
    """authorize (signed in, first party) and the code exchange: 8 statements in all."""
    with count.measuring() as authorize:
        code, verifier, _ = _code(client, signed_in)
    _assert_within(authorize, BUDGETS["authorize_signed_in"])
    authorize_count = len(authorize)
    with count.measuring() as token:
        response = redeem(client, signed_in, code, verifier)
        assert response.status_code == 200, response.json
    _assert_within(token, BUDGETS["token_authorization_code"])
    assert authorize_count + len(token) <= FLOW_BUDGET


def test_authorize_reads_the_roles_once_when_admin_roles_need_a_second_factor(
    app, client, count, signed_in, monkeypatch
):
    """Production's MFA_FOR_ADMIN_ROLES asks whether the account holds an admin role:
    one statement more, whatever the account holds (here: none)."""
    monkeypatch.setitem(app.config, "MFA_FOR_ADMIN_ROLES", True)
    with count.measuring() as authorize:
        _code(client, signed_in)
    _assert_within(authorize, BUDGETS["authorize_signed_in_roles_checked"])


def test_refresh_userinfo_and_introspection_stay_within_budget(client, count, signed_in):
    """Refreshing, reading userinfo and introspecting each run a fixed, small number."""
    code, verifier, _ = _code(client, signed_in)
    tokens = redeem(client, signed_in, code, verifier).json
    with count.measuring() as statements:
        refreshed = post_as(
            client,
            signed_in,
            "/token",
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert refreshed.status_code == 200, refreshed.json
    _assert_within(statements, BUDGETS["token_refresh"])
    access = refreshed.json["access_token"]
    with count.measuring() as statements:
        assert client.get("/userinfo", headers=bearer(access)).status_code == 200
    _assert_within(statements, BUDGETS["userinfo"])
    with count.measuring() as statements:
        answer = post_as(client, signed_in, "/introspect", {"token": access})
        assert answer.json["active"] is True
    _assert_within(statements, BUDGETS["introspection"])


def test_client_credentials_token_is_two_statements(app, client, factory, count):
    """The client, then the token insert (on PostgreSQL outside a transaction)."""
    machine = factory.client(grant_types=["client_credentials"], scope="invitations:read")
    with count.measuring() as statements:
        response = post_as(client, machine, "/token", {"grant_type": "client_credentials"})
        assert response.status_code == 200, response.json
    _assert_within(statements, BUDGETS["token_client_credentials"])
    # On PostgreSQL both run outside a transaction: no BEGIN and COMMIT round trips.
    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert count.isolation == ["AUTOCOMMIT" if postgresql else None] * 2
