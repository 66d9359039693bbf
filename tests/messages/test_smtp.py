"""The SMTP backend's manners: security as configured, login, a stable Message-ID, one
plain recipient per message."""

from __future__ import annotations

import pytest

from app.messages import queue_email, queue_sms
from tests.messages.conftest import (
    SMTP_PASSWORD,
    SMTP_USER,
    make_due,
    outbox,
    password_authenticator,
    run_worker,
)


def test_starttls_is_never_skipped(app, smtp, invite, monkeypatch):
    """MAIL_SECURITY=starttls and a server without STARTTLS: nothing is sent in clear."""
    monkeypatch.setitem(app.config, "MAIL_SECURITY", "starttls")
    invite(email="ada@example.com")
    run_worker(app)
    [item] = outbox(app)
    assert item.state == "pending"
    assert "STARTTLS" in item.last_error and "MAIL_SECURITY=starttls" in item.last_error
    assert smtp.messages == []


def test_login_with_the_configured_credentials(app, smtp_server, invite, monkeypatch):
    """MAIL_USERNAME / MAIL_PASSWORD log in; a wrong password is retried, not dropped."""
    smtp_server.start(authenticator=password_authenticator, auth_require_tls=False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", SMTP_USER)
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "wrong")
    invite(email="ada@example.com")
    run_worker(app)
    [item] = outbox(app)
    assert item.state == "pending" and "535" in item.last_error
    assert smtp_server.messages == []

    monkeypatch.setitem(app.config, "MAIL_PASSWORD", SMTP_PASSWORD)
    make_due(app)
    run_worker(app)
    assert outbox(app)[0].state == "sent"
    assert len(smtp_server.messages) == 1


def test_message_id_is_the_same_on_every_attempt(app, smtp, invite):
    """A retried message keeps its Message-ID (derived from the outbox item)."""
    smtp.refuse = "421 4.7.0 busy"
    invite(email="ada@example.com")
    run_worker(app)
    smtp.refuse = None
    make_due(app)
    run_worker(app)
    [received] = smtp.messages
    assert received.message["Message-ID"] == f"<{outbox(app)[0].public_id}@vestibule.test>"


def test_one_connection_serves_a_batch(app, smtp, invite):
    """Messages of one batch share an SMTP connection (no handshake and login each)."""
    for number in range(3):
        invite(email=f"person{number}@example.com")
    assert run_worker(app) == 3
    assert len(smtp.messages) == 3
    assert smtp.connections == 1


def test_a_connection_the_server_dropped_is_replaced(app, smtp, invite):
    """After the server restarts, the kept connection fails NOOP and a new one is made."""
    invite(email="ada@example.com")
    run_worker(app)
    smtp.stop()
    smtp.start()
    invite(email="grace@example.com")
    assert run_worker(app) == 1
    assert [item.state for item in outbox(app)] == ["sent", "sent"]
    assert smtp.connections == 2


@pytest.mark.parametrize(
    "to",
    [
        "ada@example.com\r\nBcc: eve@example.com",
        "ada@example.com, eve@example.com",
        "Ada <ada@example.com>",
        "no address",
    ],
)
def test_queue_email_takes_one_plain_address(app, to):
    """Anything but one bare address is refused before it reaches a header."""
    with app.app_context(), pytest.raises(ValueError, match="one plain address"):
        queue_email(to, "invite_user", "en", {})


def test_queue_sms_takes_an_e164_number(app):
    """SMS recipients are E.164 numbers."""
    with app.app_context(), pytest.raises(ValueError, match="E.164"):
        queue_sms("015112345678", "invite_user", "en", {})


def test_queue_email_renders_into_the_callers_transaction(app, smtp):
    """The public API: render, enqueue, commit by the caller, delivered by the worker."""
    from app.extensions import db
    from app.messages.rendering import SAMPLES

    with app.app_context():
        item = queue_email("grace@example.com", "invite_user", "en", SAMPLES)
        assert item.kind == "email" and item.topic == "invite_user"
        db.session.rollback()
    assert outbox(app) == []
    with app.app_context():
        queue_email("grace@example.com", "invite_user", "en", SAMPLES)
        db.session.commit()
    run_worker(app)
    [received] = smtp.messages
    assert received.message["Subject"] == "Grace Hopper invited you to Shop"
