"""Verified means verified (issue 10, item 7): registering through an invitation marks
the invited email (or number) verified only when Vestibule delivered the invitation to
it, or when the invitation's creator vouched for it; otherwise the email stays
unverified and a verification link is emailed. The invitation fixture is in
tests/registration/conftest.py."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from app.accounts.registration import Registration, register_invited
from app.extensions import db
from app.invitations import service
from app.models import Account, OutboxItem
from app.outbox.queue import payload_of
from app.outbox.worker import Worker
from tests.helpers import invite

PASSWORD = "a sturdy passphrase"
VERIFY_LINK = re.compile(r"http://localhost/verify/email/[A-Za-z0-9_-]+")


def register(app, token: str, **fields) -> dict:
    """Register through the invitation; the account's addresses and their flags."""
    with app.app_context():
        account = register_invited(
            service.find_by_token(token), Registration(password=PASSWORD, **fields)
        )
        return {
            "email": account.email,
            "email_verified": account.email_verified,
            "phone_number": account.phone_number,
            "phone_number_verified": account.phone_number_verified,
        }


def deliver(app) -> None:
    """Let the outbox worker send what is queued (console backends in tests)."""
    with app.app_context():
        Worker(name="test").run_once()


def verification_emails(app) -> list[tuple[str, str, str]]:
    """(recipient, language, link) of every queued verification email."""
    with app.app_context():
        items = db.session.scalars(
            select(OutboxItem).where(OutboxItem.topic == "verify_email").order_by(OutboxItem.id)
        )
        found = []
        for item in items:
            payload = payload_of(item)
            link = VERIFY_LINK.search(payload["text"])
            found.append((item.recipient, payload["lang"], link.group(0) if link else ""))
        return found


def test_a_link_handed_over_by_the_caller_does_not_verify_the_email(app, shop):
    """notify=false: whoever holds the link registers with the invited email unverified,
    and a verification link is emailed to that address."""
    issued = invite(app, email="ada@example.com", client_id="shop", notify=False)
    got = register(app, issued.token)
    assert got["email"] == "ada@example.com" and got["email_verified"] is False
    ((recipient, lang, link),) = verification_emails(app)
    assert recipient == "ada@example.com" and lang == "en" and link


def test_a_delivered_invitation_verifies_the_email(app, shop):
    """notify=true and its email left the outbox: the invited email is verified, and no
    verification email is sent."""
    issued = invite(app, email="ada@example.com", client_id="shop")
    deliver(app)
    got = register(app, issued.token)
    assert got["email_verified"] is True
    assert verification_emails(app) == []


def test_an_invitation_not_yet_delivered_does_not_verify(app, shop):
    """notify=true but its message is still in the outbox (or dead): unverified, with a
    verification email."""
    issued = invite(app, email="ada@example.com", client_id="shop")
    with app.app_context():
        db.session.execute(update(OutboxItem).values(state="dead"))
        db.session.commit()
    got = register(app, issued.token)
    assert got["email_verified"] is False
    assert [recipient for recipient, *_ in verification_emails(app)] == ["ada@example.com"]


def test_another_address_gets_the_verification_link(app, shop):
    """A delivered invitation verifies only the invited address: a different one chosen
    on the form is unverified and gets the link, in the invitation's language."""
    issued = invite(app, email="ada@example.com", client_id="shop", lang="de")
    deliver(app)
    got = register(app, issued.token, email="ada.private@example.com")
    assert got["email_verified"] is False
    ((recipient, lang, _),) = verification_emails(app)
    assert (recipient, lang) == ("ada.private@example.com", "de")


def test_a_vouched_invitation_verifies_without_delivery(app, shop):
    """email_verified on the invitation (its creator vouched): verified, no link mailed."""
    issued = invite(
        app, email="ada@example.com", client_id="shop", notify=False, email_verified=True
    )
    got = register(app, issued.token)
    assert got["email_verified"] is True
    assert verification_emails(app) == []


def test_a_phone_is_verified_only_by_a_delivered_sms(app, shop):
    """Invited by number: unverified with notify=false; verified once the SMS was sent.
    Nothing is emailed (there is no address)."""
    handed = invite(app, mobile_number="+4915112345678", client_id="shop", notify=False)
    assert register(app, handed.token)["phone_number_verified"] is False
    sent = invite(app, mobile_number="+4915187654321", client_id="shop")
    deliver(app)
    assert register(app, sent.token)["phone_number_verified"] is True
    assert verification_emails(app) == []


def test_the_verification_email_is_written_with_the_account(app, shop):
    """The verification link's row and email exist exactly when the account does."""
    issued = invite(app, email="ada@example.com", client_id="shop", notify=False)
    register(app, issued.token)
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.email == "ada@example.com"
        assert len(verification_emails(app)) == 1
