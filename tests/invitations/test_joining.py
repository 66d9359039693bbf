"""Invitations for people who already have an account (issue 15): what creating one
requires, and accepting one by the invited account (app/invitations/joining.py)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.accounts.errors import AccountError
from app.accounts.registration import InvitationUnusable, Registration, register_invited
from app.extensions import db
from app.invitations import creation, joining, service
from app.invitations.errors import AccountExists, InvalidInvitation
from app.invitations.validation import InvitationInput
from app.models import Account, Event, Group, Role
from tests.helpers import invite, row_counts, set_invitation_state, update_rows

MEMBER = "member@example.com"


@pytest.fixture
def member(app, factory):
    """An account, and the groups and roles invitations may grant."""
    with app.app_context():
        db.session.add_all([Group(name="staff"), Role(name="editor")])
        db.session.commit()
    return factory.account(MEMBER)


def _account(sub: str) -> Account:
    return db.session.scalar(select(Account).where(Account.sub == sub))


def test_join_records_existing_account_and_links_nothing(app, member):
    """existing_account join for an account's email: created, pending, no account linked."""
    created = invite(app, email=MEMBER, groups=["staff"], existing_account=True)
    with app.app_context():
        stored = service.find(created.id)
        assert stored.existing_account and stored.state == "initiated"
        assert stored.accepted_sub is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "nobody@example.com"}, "existing_account", "no account has this email"),
        ({"mobile_number": "+4915112345678"}, "existing_account", "needs the email"),
    ],
    ids=["no-account", "no-email"],
)
def test_join_refusals_write_nothing(app, member, fields, field, message):
    """No account for the email, or no email at all: 400 naming existing_account."""
    before = row_counts(app)
    with app.app_context(), pytest.raises(InvalidInvitation, match=message) as refused:
        creation.create(InvitationInput(existing_account=True, **fields), "test")
    assert refused.value.extra["field"] == field and refused.value.status == 400
    assert row_counts(app) == before


def test_join_of_a_disabled_account_is_a_conflict(app, member):
    """The account cannot sign in: 409, naming it for the edges that may show it."""
    update_rows(app, Account, {"sub": member.sub}, disabled=True)
    with app.app_context(), pytest.raises(AccountExists, match="disabled") as refused:
        creation.create(InvitationInput(email=MEMBER, existing_account=True), "test")
    assert refused.value.sub == member.sub and "sub" not in refused.value.extra


def test_join_with_another_accounts_number_is_a_conflict(app, member, factory):
    """The mobile number belongs to someone else: 409."""
    other = factory.account("other@example.com")
    update_rows(app, Account, {"sub": other.sub}, phone_number="+4915112345678")
    with app.app_context(), pytest.raises(AccountExists, match="another account"):
        creation.create(
            InvitationInput(email=MEMBER, mobile_number="+4915112345678", existing_account=True),
            "test",
        )


def test_without_join_the_conflict_knows_the_account(app, member):
    """The 409 stays; the refusal carries the sub for the edges, not in its body."""
    with app.app_context(), pytest.raises(AccountExists) as refused:
        creation.create(InvitationInput(email=MEMBER), "test")
    assert refused.value.sub == member.sub and refused.value.extra == {}
    assert refused.value.named().extra == {"sub": member.sub}


def test_join_grants_in_one_transaction(app, member):
    """Groups, roles, fields, metadata; accepted with accepted_sub; the events."""
    created = invite(
        app,
        email=MEMBER,
        groups=["staff"],
        roles=["editor"],
        custom_fields={"team": "blue"},
        public_metadata={"plan": "pro"},
        existing_account=True,
    )
    with app.app_context():
        joining.join(service.find(created.id), _account(member.sub))
    with app.app_context():
        account = _account(member.sub)
        assert [g.name for g in account.groups] == ["staff"]
        assert [r.name for r in account.roles] == ["editor"]
        assert account.custom_fields == {"team": "blue"}
        assert account.public_metadata == {"plan": "pro"}
        stored = service.find(created.id)
        assert (stored.state, stored.accepted_sub) == ("accepted", member.sub)
        assert stored.accepted_at is not None
        types = list(db.session.scalars(select(Event.type).order_by(Event.id)))
        assert types[-2:] == ["invitation.accepted", "user.updated"]


def test_join_by_another_account_is_refused(app, member, factory):
    """Only the account holding the invited email may accept; nothing changes."""
    other = factory.account("other@example.com")
    created = invite(app, email=MEMBER, groups=["staff"], existing_account=True)
    before = row_counts(app)
    with app.app_context(), pytest.raises(joining.NotTheInvitee):
        joining.join(service.find(created.id), _account(other.sub))
    assert row_counts(app) == before


@pytest.mark.parametrize("state", ["expired", "revoked", "rejected"])
def test_join_of_an_unusable_invitation_is_refused(app, member, state):
    """Expired, revoked or declined: InvitationUnusable, nothing granted."""
    created = invite(app, email=MEMBER, groups=["staff"], existing_account=True)
    set_invitation_state(app, created.id, state)
    with app.app_context(), pytest.raises(InvitationUnusable):
        joining.join(service.find(created.id), _account(member.sub))
    with app.app_context():
        assert _account(member.sub).groups == []


def test_join_twice_is_once(app, member):
    """Accepting again (another tab, the link reopened) changes nothing more."""
    created = invite(app, email=MEMBER, groups=["staff"], existing_account=True)
    for _ in range(2):
        with app.app_context():
            joining.join(service.find(created.id), _account(member.sub))
    with app.app_context():
        accepted = select(func.count()).where(Event.type == "invitation.accepted")
        assert db.session.scalar(accepted.select_from(Event)) == 1


def test_too_much_merged_data_changes_nothing(app, member, monkeypatch):
    """Metadata that would grow past its limit: refused, the invitation stays pending
    and the account keeps what it had."""
    from app.accounts import validation

    created = invite(app, email=MEMBER, public_metadata={"k": "x" * 100}, existing_account=True)
    update_rows(app, Account, {"sub": member.sub}, public_metadata={"old": "y" * 100})
    monkeypatch.setattr(validation, "MAX_JSON_BYTES", 150)
    with app.app_context(), pytest.raises(AccountError, match="at most 150 bytes"):
        joining.join(service.find(created.id), _account(member.sub))
    with app.app_context():
        assert service.find(created.id).state == "initiated"
        assert _account(member.sub).public_metadata == {"old": "y" * 100}


def test_registration_cannot_use_a_join_invitation(app, member):
    """register_invited refuses it: no second account, still pending."""
    created = invite(app, email=MEMBER, existing_account=True)
    with app.app_context(), pytest.raises(InvitationUnusable, match="existing account"):
        register_invited(
            service.find(created.id),
            Registration(password="a sturdy passphrase", email="new@example.com"),
        )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1
        assert service.find(created.id).state == "initiated"


def test_concurrent_joins_accept_once(app, member):
    """Two acceptances at the same moment (two tabs): one event, one membership."""
    created = invite(app, email=MEMBER, groups=["staff"], existing_account=True)
    start_line = threading.Barrier(2, timeout=10)
    failures: list[BaseException] = []

    def accept() -> None:
        with app.app_context():
            invitation, account = service.find(created.id), _account(member.sub)
            start_line.wait()
            try:
                joining.join(invitation, account)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # SQLite may refuse the second writer outright ("database is locked"); the
    # invitation is still accepted exactly once.
    assert all("locked" in str(exc) for exc in failures), failures
    with app.app_context():
        accepted = (
            select(func.count()).select_from(Event).where(Event.type == "invitation.accepted")
        )
        assert db.session.scalar(accepted) == 1
        assert [g.name for g in _account(member.sub).groups] == ["staff"]
        assert service.find(created.id).accepted_sub == member.sub
