"""The invitation domain (spec §2, §3.1, §3.2): tokens, links, validation, the state
machine, its events, and single-use acceptance under concurrency."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from app.crypto import hash_secret
from app.extensions import db
from app.invitations import creation, service, states
from app.invitations.errors import (
    InvalidInvitation,
    InvalidTransition,
    InvitationConflict,
    InvitationNotFound,
)
from app.invitations.validation import InvitationInput
from app.models import Account, Event, Group, Invitation, utcnow
from tests.helpers import INITIATE_LOGIN_URI, ISSUER, invite, row_counts, update_rows

ALLOWED_REDIRECT = "https://app.example.com/"


@pytest.fixture
def rp(factory):
    """A relying party whose initiate_login_uri already carries a query."""
    return factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)


@pytest.fixture
def staff(app):
    """A group named staff."""
    with app.app_context():
        db.session.add(Group(name="staff"))
        db.session.commit()
    return "staff"


def events_of(app, invitation_id: str) -> list[tuple[str, str, str | None, str | None]]:
    """(type, actor, from_state, to_state) of an invitation's events, oldest first."""
    with app.app_context():
        invitation = service.find(invitation_id)
        rows = db.session.scalars(
            select(Event).where(Event.invitation_id == invitation.id).order_by(Event.id)
        )
        return [(e.type, e.actor, e.from_state, e.to_state) for e in rows]


def expire(app, invitation_id: str) -> None:
    """Move the invitation's expiry into the past (it stays stored as pending)."""
    past = utcnow() - timedelta(minutes=1)
    update_rows(app, Invitation, {"public_id": invitation_id}, expires_at=past)


# -- tokens and links ------------------------------------------------------------------


def test_token_has_128_bits_or_more_and_only_its_hash_is_stored(app, rp):
    """The secret token carries at least 128 random bits; the row holds only its SHA-256."""
    invitation = invite(app, email="ada@example.com", client_id=rp.client_id)
    padded = invitation.token + "=" * (-len(invitation.token) % 4)
    assert len(base64.urlsafe_b64decode(padded)) * 8 >= 128
    with app.app_context():
        row = db.session.execute(select(Invitation.__table__)).one()
    assert row.token_hash == hash_secret(invitation.token)
    assert not any(invitation.token in str(value) for value in row)


def test_link_appends_invitation_and_keeps_the_clients_query(app, rp):
    """The link is the client's initiate_login_uri plus invite_id and view_type=register."""
    invitation = invite(app, email="ada@example.com", client_id=rp.client_id)
    parts = urlsplit(invitation.link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://rp.example.com/login"
    assert parse_qsl(parts.query) == [
        ("from", "invite"),
        ("invite_id", invitation.token),
        ("view_type", "register"),
    ]


def test_clientless_invitation_lands_on_hosted_registration(app):
    """Without a client the link is Vestibule's own registration page."""
    invitation = invite(app, email="ada@example.com")
    assert invitation.link.startswith(f"{ISSUER}/register?invite_id={invitation.token}&")


def test_short_link_lives_seven_days_whatever_the_invitation_expiry(app, rp):
    """The short link is /i/<token> on our host, valid 7 days even for a 90-day invitation."""
    invitation = invite(app, email="ada@example.com", client_id=rp.client_id, expires_in=90 * 86400)
    assert invitation.short_link == f"{ISSUER}/i/{invitation.token}"
    with app.app_context():
        row = service.find(invitation.id)
        short_life = row.short_link_expires_at - row.created_at
        assert abs(short_life - timedelta(days=7)) < timedelta(seconds=5)
        assert abs(row.expires_at - row.created_at - timedelta(days=90)) < timedelta(seconds=5)


# -- validation --------------------------------------------------------------------------


@pytest.fixture
def client_without_login_uri(factory):
    """A client that registered no initiate_login_uri."""
    return factory.client(client_id="bare")


INVALID = {
    "no address": ({}, "email"),
    "invalid email": ({"email": "not-an-address"}, "email"),
    "mobile without plus": ({"mobile_number": "015112345678"}, "mobile_number"),
    "mobile starting with 0": ({"mobile_number": "+015112345678"}, "mobile_number"),
    "mobile with letters": ({"mobile_number": "+49151CALLME"}, "mobile_number"),
    "unknown client": ({"email": "a@example.com", "client_id": "nope"}, "client_id"),
    "client without login uri": ({"email": "a@example.com", "client_id": "bare"}, "client_id"),
    "unknown group": ({"email": "a@example.com", "groups": ["staff", "ghosts"]}, "groups"),
    "unknown role": ({"email": "a@example.com", "roles": ["emperor"]}, "roles"),
    "redirect not allowed": (
        {"email": "a@example.com", "redirect_url": "https://evil.example.net/"},
        "redirect_url",
    ),
    "redirect with a client": (
        {"email": "a@example.com", "client_id": "shop", "redirect_url": ALLOWED_REDIRECT},
        "redirect_url",
    ),
    "over-long redirect": (
        {"email": "a@example.com", "redirect_url": ALLOWED_REDIRECT + "x" * 2048},
        "redirect_url",
    ),
    "unknown lang": ({"email": "a@example.com", "lang": "tlh"}, "lang"),
    "unknown template key": ({"email": "a@example.com", "template_key": "nope"}, "template_key"),
    "negative expires_in": ({"email": "a@example.com", "expires_in": -60}, "expires_in"),
    "zero expires_in": ({"email": "a@example.com", "expires_in": 0}, "expires_in"),
    "absurd expires_in": ({"email": "a@example.com", "expires_in": 10**10}, "expires_in"),
    "boolean expires_in": ({"email": "a@example.com", "expires_in": True}, "expires_in"),
    "over-long given name": ({"email": "a@example.com", "given_name": "x" * 129}, "given_name"),
    "over-long family name": ({"email": "a@example.com", "family_name": "x" * 129}, "family_name"),
    "huge custom fields": (
        {"email": "a@example.com", "custom_fields": {"bio": "x" * 9000}},
        "custom_fields",
    ),
    "huge public metadata": (
        {"email": "a@example.com", "public_metadata": {"blob": "x" * 9000}},
        "public_metadata",
    ),
    "same-email rule without email": (
        {"mobile_number": "+4915112345678", "allow_same_email": True},
        "allow_same_email",
    ),
}


@pytest.mark.parametrize(("fields", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_input_is_refused_and_writes_nothing(
    app, monkeypatch, rp, client_without_login_uri, staff, fields, field
):
    """Each validation rule refuses with a 400 naming the field, and no row is written."""
    monkeypatch.setitem(app.config, "INVITATION_REDIRECT_ALLOWLIST", (ALLOWED_REDIRECT,))
    before = row_counts(app)
    with app.app_context(), pytest.raises(InvalidInvitation) as refused:
        creation.create(InvitationInput(**fields), "test")
    assert refused.value.status == 400
    assert refused.value.extra["field"] == field
    assert row_counts(app) == before


def test_allow_listed_redirect_is_accepted(app, monkeypatch):
    """A client-less invitation may carry a redirect_url under an allow-listed prefix."""
    monkeypatch.setitem(app.config, "INVITATION_REDIRECT_ALLOWLIST", (ALLOWED_REDIRECT,))
    url = ALLOWED_REDIRECT + "welcome?x=1"
    invitation = invite(app, email="ada@example.com", redirect_url=url)
    with app.app_context():
        assert service.find(invitation.id).redirect_url == url


def test_pending_duplicate_is_a_conflict_naming_it(app, rp):
    """A second pending invitation for the same address and client is a 409 with the first's id."""
    first = invite(app, email="ada@example.com", client_id=rp.client_id)
    before = row_counts(app)
    with app.app_context(), pytest.raises(InvitationConflict) as refused:
        data = InvitationInput(email="ADA@example.com", client_id=rp.client_id)
        creation.create(data, "test")
    assert refused.value.status == 409
    assert refused.value.extra["invitation_id"] == first.id
    assert row_counts(app) == before


def test_same_address_for_another_client_is_allowed(app, rp, factory):
    """The pending-duplicate rule is per address and client."""
    other = factory.client(client_id="blog", initiate_login_uri="https://blog.example.com/in")
    invite(app, email="ada@example.com", client_id=rp.client_id)
    invite(app, email="ada@example.com", client_id=other.client_id)


def test_terminal_invitation_is_replaced_by_a_new_one(app, rp):
    """After a revocation the same address may be invited again."""
    first = invite(app, email="ada@example.com", client_id=rp.client_id)
    with app.app_context():
        service.revoke(first.id, "test")
    second = invite(app, email="ada@example.com", client_id=rp.client_id)
    assert second.id != first.id


def test_lapsed_pending_invitation_does_not_block_a_new_one(app, rp):
    """A pending invitation past its expiry is expired (with its event) when replaced."""
    first = invite(app, email="ada@example.com", client_id=rp.client_id)
    expire(app, first.id)
    invite(app, email="ada@example.com", client_id=rp.client_id)
    assert events_of(app, first.id)[-1] == ("invitation.expired", "system", "initiated", "expired")


@pytest.mark.parametrize(
    "fields",
    [{"email": "member@example.com"}, {"mobile_number": "+4915112345678"}],
    ids=["email", "mobile"],
)
def test_address_of_an_existing_account_is_a_conflict(app, factory, fields):
    """An email or phone number that belongs to an account is refused with 409."""
    member = factory.account(email="member@example.com")
    update_rows(app, Account, {"sub": member.sub}, phone_number="+4915112345678")
    before = row_counts(app)
    with app.app_context(), pytest.raises(InvitationConflict, match="belongs to an account"):
        creation.create(InvitationInput(**fields), "test")
    assert row_counts(app) == before


def test_input_is_normalised(app):
    """Emails are lower-cased and phone numbers stripped to E.164."""
    invitation = invite(app, email=" Ada@Example.COM ", mobile_number="+49 (151) 123-45678")
    with app.app_context():
        row = service.find(invitation.id)
        assert (row.email, row.mobile_number) == ("ada@example.com", "+4915112345678")


def test_language_falls_back_to_accept_language(app):
    """Without lang the first available Accept-Language wins, then the default."""
    with app.app_context():
        german = creation.create(InvitationInput(email="a@example.com"), "t", ["fr", "de"])
        default = creation.create(InvitationInput(email="b@example.com"), "t", ["fr"])
        assert (german.invitation.lang, default.invitation.lang) == ("de", "en")


# -- the state machine and its events ----------------------------------------------------


@pytest.mark.parametrize("current", sorted(states.STATES))
@pytest.mark.parametrize("action", sorted(states.TRANSITIONS))
def test_transition_table_is_the_only_rule(current, action):
    """Every action leads from a pending state to its target; nothing leaves a terminal one."""
    if current in states.PENDING:
        assert states.target(current, action) == states.TRANSITIONS[action]
    else:
        with pytest.raises(InvalidTransition):
            states.target(current, action)


def test_every_transition_is_an_event_with_actor_and_states(app, rp):
    """Create, resend and revoke each leave an event: type, actor, from and to state."""
    invitation = invite(app, "client:backoffice", email="ada@example.com", client_id=rp.client_id)
    with app.app_context():
        service.resend(invitation.id, "account:alice")
        service.revoke(invitation.id, "account:bob")
    assert events_of(app, invitation.id) == [
        ("invitation.created", "client:backoffice", None, "initiated"),
        ("invitation.resent", "account:alice", "initiated", "reinitiated"),
        ("invitation.revoked", "account:bob", "reinitiated", "revoked"),
    ]


def test_reject_and_accept_record_their_events(app, rp):
    """Declining and accepting are transitions too; acceptance records the new sub."""
    declined = invite(app, email="no@example.com", client_id=rp.client_id)
    accepted = invite(app, email="yes@example.com", client_id=rp.client_id)
    with app.app_context():
        service.reject(service.find(declined.id), "invitee")
        service.accept(service.find(accepted.id), "sub-1", "invitee")
        db.session.commit()
        row = service.find(accepted.id)
        assert (row.state, row.accepted_sub, row.accepted_at is not None) == (
            "accepted",
            "sub-1",
            True,
        )
        event = db.session.scalar(select(Event).where(Event.type == "invitation.accepted"))
        assert event.data == {"invitation_id": accepted.id, "sub": "sub-1"}
    assert events_of(app, declined.id)[-1] == (
        "invitation.rejected",
        "invitee",
        "initiated",
        "rejected",
    )


def test_resend_issues_a_new_token_and_the_old_one_stops_resolving(app, rp):
    """After a resend only the new token finds the invitation; the counter goes up."""
    invitation = invite(app, email="ada@example.com", client_id=rp.client_id)
    with app.app_context():
        issued = service.resend(invitation.id, "test")
        assert issued.token != invitation.token
        assert service.find_by_token(invitation.token) is None
        assert service.find_by_token(issued.token).public_id == invitation.id
        assert issued.invitation.resent_count == 1
        assert issued.short_link != invitation.short_link


@pytest.mark.parametrize("change", ["resend", "revoke"])
def test_expired_invitation_cannot_be_resent_or_revoked(app, rp, change):
    """A pending invitation past its expiry is expired: resend and revoke are 409s."""
    invitation = invite(app, email="ada@example.com", client_id=rp.client_id)
    expire(app, invitation.id)
    before = row_counts(app)
    with app.app_context(), pytest.raises(InvalidTransition) as refused:
        getattr(service, change)(invitation.id, "test")
    assert refused.value.status == 409 and refused.value.extra["state"] == "expired"
    assert row_counts(app) == before


def test_expire_due_marks_lapsed_invitations_with_events(app, rp):
    """The sweep stores expired on lapsed pending invitations only, each with its event."""
    lapsed = invite(app, email="old@example.com", client_id=rp.client_id)
    fresh = invite(app, email="new@example.com", client_id=rp.client_id)
    expire(app, lapsed.id)
    with app.app_context():
        assert service.expire_due() == 1
        assert service.find(lapsed.id).state == "expired"
        assert service.find(fresh.id).state == "initiated"
    assert events_of(app, lapsed.id)[-1] == ("invitation.expired", "system", "initiated", "expired")


def test_unknown_or_malformed_id_is_not_found(app):
    """find() answers InvitationNotFound, also for ids PostgreSQL could not compare."""
    with app.app_context():
        for public_id in ("00000000-0000-0000-0000-000000000000", "nul\x00id"):
            with pytest.raises(InvitationNotFound):
                service.find(public_id)


def test_accept_is_single_use_under_concurrency(app, rp):
    """Ten concurrent acceptances of one invitation: exactly one wins, one event is stored."""
    invitation = invite(app, email="ada@example.com", client_id=rp.client_id)
    start = threading.Barrier(10)
    outcomes: list[str] = []

    def accept(number: int) -> None:
        with app.app_context():
            row = service.find(invitation.id)
            start.wait()
            try:
                service.accept(row, f"sub-{number}", "invitee")
                db.session.commit()
                outcomes.append("accepted")
            except InvalidTransition:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 9
    types = [event[0] for event in events_of(app, invitation.id)]
    assert types.count("invitation.accepted") == 1


# -- bulk --------------------------------------------------------------------------------


def test_create_each_keeps_the_good_items_and_reports_the_bad(app, rp):
    """One savepoint per item: a refused item is reported in place, the others are stored."""
    items = [
        InvitationInput(email="one@example.com", client_id=rp.client_id),
        InvitationInput(email="broken"),
        InvitationInput(email="one@example.com", client_id=rp.client_id),
        InvitationInput(mobile_number="+4915112345678"),
    ]
    with app.app_context():
        outcomes = creation.create_each(items, "test")
        kinds = [type(outcome).__name__ for outcome in outcomes]
        assert kinds == ["Issued", "InvalidInvitation", "InvitationConflict", "Issued"]
        assert outcomes[2].extra["invitation_id"] == outcomes[0].invitation.public_id
        assert outcomes[0].link.startswith("https://rp.example.com/login?")
    assert row_counts(app)["invitations"] == 2
