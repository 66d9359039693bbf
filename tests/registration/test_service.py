"""The registration service (app/accounts/registration.py): one transaction, single use
under concurrency. The invitation fixture is in tests/registration/conftest.py."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.accounts.errors import AccountError
from app.accounts.registration import InvitationUnusable, Registration, register_invited
from app.extensions import db
from app.invitations import service
from app.models import Account, Event, Invitation
from app.outbox.worker import Worker
from tests.helpers import invite, row_counts

PASSWORD = "a sturdy passphrase"


def _register(app, token: str, **fields) -> str:
    with app.app_context():
        account = register_invited(
            service.find_by_token(token),
            Registration(password=fields.pop("password", PASSWORD), **fields),
        )
        return account.sub


def test_registration_creates_the_account_and_accepts_the_invitation(app, invitation):
    """Account with the invited (and delivered) email verified, groups, roles, metadata;
    invitation accepted."""
    with app.app_context():
        Worker(name="test").run_once()  # the invitation email leaves the outbox
    sub = _register(app, invitation.token, family_name="Lovelace")
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.sub == sub))
        assert account.email == "ada@example.com" and account.email_verified
        assert account.given_name == "Ada" and account.family_name == "Lovelace"
        assert [g.name for g in account.groups] == ["staff"]
        assert [r.name for r in account.roles] == ["editor"]
        assert account.public_metadata == {"plan": "pro"}
        assert account.custom_fields == {"team": "blue"}
        assert account.password_hash.startswith("$argon2id$")
        stored = service.find(invitation.id)
        assert stored.state == "accepted" and stored.accepted_sub == sub
        types = set(db.session.scalars(select(Event.type)))
        assert {"invitation.accepted", "user.created"} <= types


def test_another_email_is_allowed_but_not_verified(app, invitation):
    """Without allow_same_email the person may choose another address, unverified."""
    sub = _register(app, invitation.token, email="Ada.Other@Example.com")
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.sub == sub))
        assert account.email == "ada.other@example.com" and not account.email_verified


def test_locked_email_refuses_another_address_and_writes_nothing(app, shop):
    """With allow_same_email a different email is refused; nothing is written."""
    locked = invite(app, email="lock@example.com", client_id="shop", allow_same_email=True)
    before = row_counts(app)
    with pytest.raises(AccountError, match="invited address"):
        _register(app, locked.token, email="other@example.com")
    assert row_counts(app) == before


def test_weak_password_is_refused_and_writes_nothing(app, invitation):
    """A password under the policy minimum changes nothing; the invitation stays pending."""
    before = row_counts(app)
    with pytest.raises(AccountError, match="at least"):
        _register(app, invitation.token, password="short")
    assert row_counts(app) == before
    with app.app_context():
        assert service.find(invitation.id).state == "initiated"


def test_revoked_invitation_cannot_be_used(app, invitation):
    """A revoked invitation is refused with a clear, typed error."""
    with app.app_context():
        service.revoke(invitation.id, "test")
    with pytest.raises(InvitationUnusable, match="revoked"):
        _register(app, invitation.token)


def test_parallel_registrations_create_exactly_one_account(app, invitation):
    """20 parallel submits of one invitation, each with its own email (so only the
    invitation guards against duplicates): one account, one acceptance, 19 refusals."""
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            with app.app_context():
                found = service.find_by_token(invitation.token)
                try:
                    register_invited(
                        found, Registration(password=PASSWORD, email=f"p{i}@example.com")
                    )
                    result = "ok"
                except (InvitationUnusable, AccountError) as exc:
                    result = type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - reported through the assertion below
            result = repr(exc)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes.count("ok") == 1, outcomes
    assert len(outcomes) == 20
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1
        accepted = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "invitation.accepted")
        )
        assert accepted == 1
        assert db.session.scalar(select(Invitation.state)) == "accepted"


def test_simultaneous_self_registrations_of_one_email_conflict_cleanly(app, monkeypatch):
    """Ten people register the same address at once: one account, nine AccountConflict
    (a 409), never an IntegrityError (a 500)."""
    from app.accounts.registration import register_self

    monkeypatch.setitem(app.config, "SIGNUP_MODE", "public")
    start = threading.Barrier(10, timeout=30)
    outcomes: list[str] = []

    def attempt() -> None:
        with app.app_context():
            start.wait()
            try:
                register_self(Registration(password=PASSWORD, email="same@example.com"))
                outcomes.append("created")
            except AccountError as exc:
                outcomes.append(type(exc).__name__)
            except Exception as exc:  # the bug this test guards against
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["AccountConflict"] * 9 + ["created"], outcomes
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1
