"""Invitation emails (spec §2.3, §5): queued with the invitation, delivered over real SMTP
by the outbox worker, retried through an outage, never sent twice."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.messages import format_datetime
from app.models import DeliveryAttempt, Event, Invitation
from tests.messages.conftest import INVITATIONS, make_due, outbox, run_worker


def _invitation(app, public_id: str) -> dict:
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.public_id == public_id))
        events = db.session.scalars(
            select(Event.type).where(Event.invitation_id == invitation.id).order_by(Event.id)
        )
        return {"sent_at": invitation.sent_at, "events": list(events)}


def test_german_invitation_arrives_with_a_working_short_link(app, client, smtp, invite):
    """lang=de: one German email to the invitee, the short link in both parts, and it works."""
    created = invite(email="ada@example.com", given_name="Ada", lang="de")
    assert [item.state for item in outbox(app)] == ["pending"]

    assert run_worker(app) == 1

    [received] = smtp.messages
    assert received.rcpt_tos == ["ada@example.com"]
    assert received.mail_from == "no-reply@vestibule.test"
    message = received.message
    assert message["Subject"] == "Back office hat Sie zu Test RP eingeladen"
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Vestibule <no-reply@vestibule.test>"
    assert message["Message-ID"] == f"<{outbox(app)[0].public_id}@vestibule.test>"
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert "Hallo Ada," in received.part("plain")
    assert created["short_link"] in received.part("plain")
    assert f'href="{created["short_link"]}"' in received.part("html")
    expires_at = format_datetime(datetime.fromisoformat(created["short_link_expires_at"]), "de")
    assert f"Der Link gilt bis {expires_at}." in received.part("plain")

    landing = client.get(urlsplit(created["short_link"]).path)
    assert landing.status_code == 302
    assert landing.location == created["link"]


def test_delivery_marks_the_invitation_sent_with_an_event(app, smtp, invite):
    """After delivery: sent_at is set, invitation.sent recorded, one good attempt logged."""
    created = invite(email="ada@example.com")
    assert _invitation(app, created["id"])["sent_at"] is None
    run_worker(app)
    after = _invitation(app, created["id"])
    assert after["sent_at"] is not None
    assert after["events"] == ["invitation.created", "invitation.sent"]
    [item] = outbox(app)
    assert (item.state, item.attempts, item.last_error) == ("sent", 1, None)
    with app.app_context():
        [attempt] = db.session.scalars(select(DeliveryAttempt)).all()
        assert attempt.ok and attempt.status_code == 250


def test_smtp_outage_delays_the_message_and_loses_nothing(app, client, smtp_server, invite):
    """No SMTP server at creation: still 201; retried later, delivered exactly once."""
    created = invite(email="ada@example.com")

    assert run_worker(app) == 1
    [item] = outbox(app)
    assert item.state == "pending"
    assert item.attempts == 1
    assert "Connection" in item.last_error or "refused" in item.last_error.lower()
    assert item.next_attempt_in > 0
    assert run_worker(app) == 0  # not due yet: the backoff holds it
    assert _invitation(app, created["id"])["sent_at"] is None

    smtp_server.start()
    make_due(app)
    assert run_worker(app) == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ada@example.com"]]
    assert outbox(app)[0].state == "sent"

    make_due(app)
    assert run_worker(app) == 0
    assert len(smtp_server.messages) == 1
    assert _invitation(app, created["id"])["sent_at"] is not None


def test_permanent_refusal_gives_up_at_once(app, smtp, invite):
    """A 550 for the recipient is final: the item is dead after one attempt, not retried."""
    smtp.refuse = "550 5.1.1 <ada@example.com>: mailbox unavailable"
    created = invite(email="ada@example.com")
    run_worker(app)
    [item] = outbox(app)
    assert (item.state, item.attempts) == ("dead", 1)
    assert "550" in item.last_error
    assert smtp.messages == []
    assert _invitation(app, created["id"])["sent_at"] is None


def test_temporary_refusal_is_retried(app, smtp, invite):
    """A 451 for the recipient is temporary: pending again with a retry scheduled."""
    smtp.refuse = "451 4.3.0 try again later"
    invite(email="ada@example.com")
    run_worker(app)
    [item] = outbox(app)
    assert item.state == "pending" and "451" in item.last_error and item.next_attempt_in > 0
    smtp.refuse = None
    make_due(app)
    run_worker(app)
    assert outbox(app)[0].state == "sent" and len(smtp.messages) == 1


def test_resend_sends_a_second_message_with_the_new_link(app, client, smtp, invite, admin_headers):
    """Resending queues a new message carrying the new short link."""
    created = invite(email="ada@example.com")
    run_worker(app)
    resent = client.post(f"{INVITATIONS}/{created['id']}/resend", headers=admin_headers)
    assert resent.status_code == 200, resent.json
    assert resent.json["short_link"] != created["short_link"]

    assert run_worker(app) == 1
    first, second = smtp.messages
    assert created["short_link"] in first.part("plain")
    assert resent.json["short_link"] in second.part("plain")
    assert created["short_link"] not in second.part("plain")
    assert first.message["Message-ID"] != second.message["Message-ID"]
    events = _invitation(app, created["id"])["events"]
    assert events.count("invitation.sent") == 2


def test_a_message_whose_link_was_replaced_is_not_sent(
    app, client, smtp_server, invite, admin_headers
):
    """Resent during an outage: only the message with the working link goes out."""
    created = invite(email="ada@example.com")
    run_worker(app)  # the server is down: the first message waits
    resent = client.post(f"{INVITATIONS}/{created['id']}/resend", headers=admin_headers).json
    smtp_server.start()
    make_due(app)
    assert run_worker(app) == 2
    [received] = smtp_server.messages
    assert resent["short_link"] in received.part("plain")
    first, second = outbox(app)
    assert first.state == "dead" and "resent" in first.last_error
    assert second.state == "sent"


def test_revoked_invitation_is_not_sent(app, client, smtp, invite, admin_headers):
    """Revoked before the worker ran: the message is dropped, not delivered."""
    created = invite(email="ada@example.com")
    client.post(f"{INVITATIONS}/{created['id']}/revoke", headers=admin_headers)
    run_worker(app)
    assert smtp.messages == []
    [item] = outbox(app)
    assert item.state == "dead" and "revoked" in item.last_error


def test_notify_false_queues_nothing(app, smtp, invite):
    """notify=false: the caller delivers the link; nothing is queued or sent."""
    invite(email="ada@example.com", notify=False)
    assert outbox(app) == []
    assert run_worker(app) == 0
    assert smtp.messages == []


def test_language_comes_from_accept_language(app, smtp, invite):
    """Without lang, the caller's Accept-Language picks the template language."""
    created = invite(email="ada@example.com", headers={"Accept-Language": "de-DE, en;q=0.5"})
    assert created["lang"] == "de"
    run_worker(app)
    assert smtp.messages[0].message["Subject"].endswith("eingeladen")


def test_inviter_is_named_after_the_person_who_invited(app, client, smtp, person_headers):
    """An invitation made with a person's token names that person in the message."""
    headers = person_headers(email="grace@example.com")
    response = client.post(
        INVITATIONS, json={"email": "ada@example.com", "lang": "en"}, headers=headers
    )
    assert response.status_code == 201, response.json
    run_worker(app)
    assert smtp.messages[0].message["Subject"] == "Ada Lovelace invited you to Vestibule"


def test_account_name_setting_is_used(app, client, smtp, admin_headers, monkeypatch):
    """ACCOUNT_NAME names what an invitation without a client invites to."""
    monkeypatch.setitem(app.config, "ACCOUNT_NAME", "Acme Portal")
    response = client.post(
        INVITATIONS, json={"email": "ada@example.com", "lang": "en"}, headers=admin_headers
    )
    assert response.status_code == 201, response.json
    run_worker(app)
    assert smtp.messages[0].message["Subject"] == "Back office invited you to Acme Portal"


def test_bulk_rows_each_queue_their_message(app, client, smtp, admin_headers, invite_client):
    """Bulk create: a message per created row with notify, none for refused rows."""
    rows = [
        {"email": "one@example.com", "client_id": "shop"},
        {"email": "not an address", "client_id": "shop"},
        {"email": "two@example.com", "client_id": "shop", "notify": False},
        {"email": "three@example.com", "client_id": "shop", "lang": "de"},
    ]
    response = client.post(f"{INVITATIONS}/bulk", json={"invitations": rows}, headers=admin_headers)
    assert response.json["created"] == 3
    assert [item.recipient for item in outbox(app)] == ["one@example.com", "three@example.com"]
    run_worker(app)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["one@example.com", "three@example.com"]


def test_idempotent_retry_does_not_queue_a_second_message(app, client, admin_headers, invite):
    """A replayed POST with the same Idempotency-Key answers again but queues nothing new."""
    headers = {**admin_headers, "Idempotency-Key": "invite-ada-1"}
    body = {"email": "ada@example.com", "client_id": "shop"}
    first = client.post(INVITATIONS, json=body, headers=headers)
    again = client.post(INVITATIONS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert len(outbox(app)) == 1


def test_refused_invitation_queues_nothing(app, client, admin_headers, invite):
    """A refused create (a conflict) rolls the message back with the invitation."""
    invite(email="ada@example.com")
    again = client.post(
        INVITATIONS, json={"email": "ada@example.com", "client_id": "shop"}, headers=admin_headers
    )
    assert again.status_code == 409
    assert len(outbox(app)) == 1


def test_the_link_is_not_stored_in_clear(app, invite):
    """The outbox payload in the database is sealed: neither the link nor the text shows."""
    created = invite(email="ada@example.com", given_name="Adalberta")
    token = urlsplit(created["short_link"]).path.rsplit("/", 1)[-1]
    [item] = outbox(app)
    assert token not in item.payload
    # A sealed payload is base64url: no "/" can appear, and a 9-letter name would by
    # chance about once in 10^14 tries (a 3-letter one did, once in a thousand).
    assert "/i/" not in item.payload and "Adalberta" not in item.payload
    assert item.recipient == "ada@example.com"


def test_console_backend_prints_and_counts_as_sent(app, invite, capsys):
    """MAIL_BACKEND=console (tests' default): the message is printed and marked sent."""
    created = invite(email="ada@example.com", lang="en")
    run_worker(app)
    printed = capsys.readouterr().out
    assert "To: ada@example.com" in printed
    assert created["short_link"] in printed
    assert outbox(app)[0].state == "sent"
    assert _invitation(app, created["id"])["sent_at"] is not None
