"""Fixtures for the password links: an account, the admin API's tokens, and the
emails the outbox holds (their links read back from the sealed payloads)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxItem
from app.outbox.queue import payload_of
from tests.api.conftest import (  # noqa: F401 - fixtures for the admin API tests
    admin_headers,
    invite_client,
    machine_headers,
    person_headers,
)

LINK = re.compile(r"http://localhost/password/reset/[A-Za-z0-9_-]+")


@pytest.fixture
def person(factory):
    """An account that can sign in."""
    return factory.account(email="ada@example.com")


def emails(application, topic: str | None = None) -> list[tuple[str, str, str]]:
    """(topic, recipient, link in the body) of every email in the outbox, oldest first."""
    with application.app_context():
        query = select(OutboxItem).where(OutboxItem.kind == "email").order_by(OutboxItem.id)
        if topic:
            query = query.where(OutboxItem.topic == topic)
        found = []
        for item in db.session.scalars(query):
            match = LINK.search(str(payload_of(item)))
            found.append((item.topic, item.recipient, match.group(0) if match else ""))
        return found
