"""`vestibule seed`: the demo data the README's walkthroughs use, made idempotently."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.clients.service import create_client, find_client
from app.extensions import db
from app.models import Group, Role
from app.seed import BACK_OFFICE_CLIENT_ID, BACK_OFFICE_SCOPE, BACK_OFFICE_SECRET
from tests.helpers import row_counts

ISSUER = "http://localhost"


@pytest.fixture
def seed(app, monkeypatch):
    """Run `vestibule seed` as development would (its demo settings on the test app)."""
    for name, value in {
        "DEMO_ADMIN_EMAIL": "admin@example.com",
        "DEMO_ADMIN_PASSWORD": "vestibule-admin",
        "DEMO_CLIENT_SECRET": "demo-client-secret",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    runner = app.test_cli_runner()

    def run():
        result = runner.invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def clients(app) -> dict[str, dict]:
    with app.app_context():
        return {
            client_id: {
                "redirect_uris": find_client(client_id).redirect_uris,
                "initiate_login_uri": find_client(client_id).initiate_login_uri,
                "grant_types": find_client(client_id).grant_types,
                "scope": find_client(client_id).scope,
            }
            for client_id in ("demo-confidential", "demo-public", "shop", BACK_OFFICE_CLIENT_ID)
            if find_client(client_id) is not None
        }


def test_seed_makes_what_the_walkthroughs_use(app, seed):
    """The shop client with its login route, the by-hand flow's landing page on the public
    client, the back office with the examples' scopes, the groups and built-in roles."""
    seed()
    made = clients(app)
    assert made["shop"]["initiate_login_uri"] == "https://shop.example/login"
    assert made["demo-public"]["redirect_uris"] == [f"{ISSUER}/playground/code"]
    assert made[BACK_OFFICE_CLIENT_ID]["grant_types"] == ["client_credentials"]
    assert set(made[BACK_OFFICE_CLIENT_ID]["scope"].split()) >= {
        "invitations:write",
        "users:write",
        "webhooks:write",
        "outbox:read",
    }
    with app.app_context():
        assert set(db.session.scalars(select(Group.name))) == {"staff", "beta"}
        assert set(db.session.scalars(select(Role.name))) == {
            "admin",
            "secondary_admin",
            "user_invite",
        }


def test_seeded_back_office_gets_a_token_with_its_secret(app, seed, client):
    """The back office's printed secret works at /token for the README's scopes."""
    seed()
    response = client.post(
        "/token",
        auth=(BACK_OFFICE_CLIENT_ID, BACK_OFFICE_SECRET),
        data={"grant_type": "client_credentials", "scope": BACK_OFFICE_SCOPE},
    )
    assert response.status_code == 200, response.json
    assert set(response.json["scope"].split()) == set(BACK_OFFICE_SCOPE.split())


def test_seed_twice_changes_nothing(app, seed):
    """A second run writes no row and changes no client."""
    seed()
    before, made = row_counts(app), clients(app)
    seed()
    assert row_counts(app) == before and clients(app) == made


def test_seed_adds_the_code_page_to_an_older_public_client(app, seed):
    """A development database seeded before the code page existed gets its redirect URI
    added to demo-public, keeping the old one."""
    with app.app_context():
        create_client(
            "Demo public app",
            ["http://127.0.0.1:8765/callback"],
            client_id="demo-public",
            public=True,
            allow_http=True,
        )
    seed()
    assert clients(app)["demo-public"]["redirect_uris"] == [
        "http://127.0.0.1:8765/callback",
        f"{ISSUER}/playground/code",
    ]


def test_seed_lets_an_older_playground_client_ask_for_groups_and_roles(app, seed):
    """A playground client seeded before the groups and roles scopes gets them added
    (its ID tokens can then show what an invitation granted), keeping the others."""
    with app.app_context():
        create_client(
            "Vestibule Playground",
            [f"{ISSUER}/playground/callback"],
            client_id="demo-confidential",
            scope="openid profile email phone offline_access",
            allow_http=True,
        )
    seed()
    assert clients(app)["demo-confidential"]["scope"].split() == [
        "openid",
        "profile",
        "email",
        "phone",
        "offline_access",
        "groups",
        "roles",
    ]


def test_banner_says_where_to_go_and_how_to_use_the_cli(app, seed):
    """The banner `make run` prints names the dashboard, the playground, the API docs, the
    demo credentials and how to run the CLI in another terminal."""
    output = seed()
    for expected in (
        f"{ISSUER}/admin/",
        f"{ISSUER}/playground/",
        f"{ISSUER}/api/v1/docs",
        "admin@example.com / vestibule-admin",
        "demo-confidential / demo-client-secret",
        f"{BACK_OFFICE_CLIENT_ID} / {BACK_OFFICE_SECRET}",
        ". .venv/bin/activate",
        "vestibule --help",
        f"export ISSUER={ISSUER}",
    ):
        assert expected in output, expected
