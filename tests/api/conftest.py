"""Fixtures for the admin API: bearer tokens for machines and for people."""

from __future__ import annotations

import pytest

from app.accounts.service import ensure_role
from app.extensions import db
from app.models import Account
from tests.helpers import obtain_tokens

API_SCOPES = (
    "invitations:read invitations:write users:read users:write clients:read clients:write "
    "webhooks:read webhooks:write outbox:read outbox:write"
)
#: The scopes no client holds unless registered with them: granting or acting on the
#: built-in roles, and vouching for an address Vestibule did not deliver to.
POWER_SCOPES = "roles:grant users:verify"


@pytest.fixture
def machine_headers(client, factory):
    """``machine_headers(scope=...)``: Authorization headers of a client-credentials token."""

    def make(scope: str = API_SCOPES) -> dict:
        rp = factory.client(grant_types=["client_credentials"], scope=scope, name="Back office")
        response = client.post(
            "/token", headers=rp.basic_auth(), data={"grant_type": "client_credentials"}
        )
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return make


@pytest.fixture
def person_headers(app, client, factory):
    """``person_headers(roles=[...], scope=...)``: a person's token from the code flow."""

    def make(
        roles: tuple[str, ...] = ("admin",),
        scope: str = API_SCOPES,
        email: str = "boss@example.com",
    ) -> dict:
        person = factory.account(email=email)
        with app.app_context():
            account = db.session.scalar(db.select(Account).where(Account.sub == person.sub))
            account.roles = [ensure_role(name) for name in roles]
            db.session.commit()
        rp = factory.client(scope=f"openid {scope}", name="Dashboard")
        tokens = obtain_tokens(client, rp, person, scope=f"openid {scope}")
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    return make


@pytest.fixture
def invite_client(factory):
    """A relying party with an initiate_login_uri that invitations can target."""
    return factory.client(
        client_id="shop", initiate_login_uri="https://rp.example.com/login?from=invite"
    )


@pytest.fixture
def admin_headers(machine_headers):
    """Authorization headers of a machine token holding every admin API scope, the
    powers roles:grant and users:verify included (``machine_headers()`` lacks those)."""
    return machine_headers(f"{API_SCOPES} {POWER_SCOPES}")
