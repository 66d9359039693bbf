"""Fixtures for the registration journeys: a first-party client with a login route,
an invitation to it, and browser steps through /authorize and /registration."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Group, Role
from tests.helpers import INITIATE_LOGIN_URI, ClientInfo, invite


@pytest.fixture
def shop(factory) -> ClientInfo:
    """The first-party client people are invited to."""
    return factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)


@pytest.fixture
def invitation(app, shop):
    """A pending invitation to ``shop`` with a group, a role, metadata and a custom field."""
    with app.app_context():
        db.session.add_all([Group(name="staff"), Role(name="editor")])
        db.session.commit()
    return invite(
        app,
        email="ada@example.com",
        client_id="shop",
        given_name="Ada",
        family_name="Lovelace",
        groups=["staff"],
        roles=["editor"],
        public_metadata={"plan": "pro"},
        custom_fields={"team": "blue"},
    )


@pytest.fixture
def signup_mode(app, monkeypatch):
    """Set the global sign-up mode for one test."""

    def set_mode(mode: str) -> None:
        monkeypatch.setitem(app.config, "SIGNUP_MODE", mode)

    return set_mode


@pytest.fixture
def registration_fields(app, monkeypatch):
    """Configure extra registration fields for one test."""

    def configure(fields: list[dict]) -> None:
        monkeypatch.setitem(app.config, "REGISTRATION_FIELDS", fields)

    return configure
