"""Fixtures for the account page and verification tests: a signed-in browser, a second
browser of the same person, the account page's forms posted with their CSRF token,
and what the outbox and the audit log hold."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app import create_app
from app.accounts.service import find
from app.extensions import db
from app.models import Event, OutboxItem
from app.outbox.queue import payload_of
from tests.helpers import AccountInfo, csrf_token, sign_in

VERIFY_LINK = re.compile(r"http://localhost/verify/email/[A-Za-z0-9_-]+")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass
class Browser:
    """A test client signed in as ``person``."""

    client: object
    person: AccountInfo

    def page(self):
        """GET /account."""
        return self.client.get("/account")

    def post(self, path: str, **data):
        """POST an account-page form to ``path`` with the page's CSRF token."""
        token = csrf_token(self.page().get_data(as_text=True))
        return self.client.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def person(factory) -> AccountInfo:
    """Ada, with a verified email and a password."""
    return factory.account("ada@example.com")


@pytest.fixture
def browser(app, client, person) -> Browser:
    """A browser where Ada signed in (with Firefox on Linux, from 203.0.113.7)."""
    client.environ_base.update(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="203.0.113.7")
    assert sign_in(client, person).status_code == 303
    return Browser(client, person)


@pytest.fixture
def other_browser(app, person) -> Browser:
    """A second browser where Ada signed in too."""
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return Browser(client, person)


def account_values(app, sub: str, *names: str) -> dict:
    """Columns of the account, as plain values."""
    with app.app_context():
        account = find(sub)
        return {name: getattr(account, name) for name in names}


def outbox_messages(app, topic: str) -> list[tuple[str, dict]]:
    """(recipient, payload) of every queued message of ``topic``, oldest first."""
    with app.app_context():
        items = db.session.scalars(
            select(OutboxItem).where(OutboxItem.topic == topic).order_by(OutboxItem.id)
        )
        return [(item.recipient, payload_of(item)) for item in items]


def verify_paths(app) -> list[tuple[str, str]]:
    """(recipient, link path) of every verification email queued, oldest first."""
    return [
        (to, urlsplit(VERIFY_LINK.search(payload["text"]).group(0)).path)
        for to, payload in outbox_messages(app, "verify_email")
    ]


def event_types(app) -> list[str]:
    """The types of every recorded event, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(Event.type).order_by(Event.id)))


def confirm_link(client, path: str):
    """Open a verification link's page and press its button."""
    page = client.get(path)
    assert page.status_code == 200, page.data
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


@pytest.fixture
def limited_app(tmp_path):
    """``limited_app(**settings)``: an app of its own with rate limits on (the suite's
    are off), on a fresh SQLite file."""
    made = []

    def make(**settings):
        application = create_app(
            "testing",
            RATELIMIT_ENABLED=True,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / f'limits{len(made)}.db'}",
            **settings,
        )
        with application.app_context():
            db.create_all()
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()
