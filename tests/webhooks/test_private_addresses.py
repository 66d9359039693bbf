"""Webhooks must not reach the server's own network (SSRF): with
WEBHOOK_ALLOW_PRIVATE_ADDRESSES off (production's default), loopback, private and
link-local targets are refused when registered and again at every delivery."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxItem
from tests.helpers import invite, row_counts
from tests.webhooks.conftest import WEBHOOKS


@pytest.fixture
def strict(app, monkeypatch):
    """Production's setting (tests allow private addresses for their receivers)."""

    def on() -> None:
        monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)

    return on


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://LOCALHOST./hooks",
        "http://api.localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        # Spellings resolvers accept for 127.0.0.1 / 10.0.0.1 that ipaddress does not.
        "http://2130706433/hooks",
        "http://0x7f000001/hooks",
        "http://127.1/hooks",
        "http://0177.0.0.1/hooks",
        "http://0xa.0.0.1/hooks",
        # IPv6 forms that carry a private IPv4 address.
        "http://[64:ff9b::7f00:1]/hooks",
        "http://[64:ff9b::10.0.0.1]/hooks",
        "http://[2002:7f00:1::]/hooks",
        "http://[2002:a9fe:a9fe::1]/hooks",
        "http://[::127.0.0.1]/hooks",
        "http://[::a00:1]/hooks",
    ],
)
def test_private_targets_are_refused_when_registered(app, client, webhook_headers, strict, url):
    """Loopback, private and link-local targets, however spelled, are a 400 that stores
    nothing."""
    strict()
    before = row_counts(app)
    response = client.post(
        WEBHOOKS, headers=webhook_headers, json={"url": url, "event_types": ["user.created"]}
    )
    assert response.status_code == 400, response.json
    assert "private" in response.json["error_description"]
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "url",
    ["https://93.184.216.34/hooks", "https://[64:ff9b::5db8:d822]/hooks", "https://1.1.1.1/h"],
)
def test_a_public_address_is_accepted(client, webhook_headers, strict, url):
    """A public address (also through NAT64) is accepted."""
    strict()
    response = client.post(
        WEBHOOKS, headers=webhook_headers, json={"url": url, "event_types": ["user.created"]}
    )
    assert response.status_code == 201, response.json


def test_delivery_to_a_private_address_is_refused(
    app, receiver, register_endpoint, run_worker, strict
):
    """Registered while allowed (or its name pointed elsewhere later): at delivery the
    target is checked again, nothing is sent, and the item is dead with the reason."""
    register_endpoint(receiver.url.replace("127.0.0.1", "localhost"), ["invitation.created"])
    strict()
    invite(app, email="ada@example.com", notify=False)
    run_worker()
    assert receiver.received == []
    with app.app_context():
        item = db.session.scalar(select(OutboxItem).where(OutboxItem.kind == "webhook"))
        assert item.state == "dead"
        assert "non-public address" in item.last_error
        assert "localhost resolves to a non-public address" in item.last_error
        assert "127.0.0.1" not in item.last_error  # the log does not map the network
