"""The password-link service (app/accounts/password_links.py): single use, expiry,
superseded links, what a used link ends, and two concurrent uses of one link."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import password_links
from app.accounts.authentication import authenticate
from app.accounts.errors import AccountError
from app.accounts.service import disable, find
from app.extensions import db
from app.models import Account, Event, OutboxItem, PasswordToken, utcnow
from tests.helpers import PASSWORD, row_counts, update_rows
from tests.password.conftest import emails

NEW = "a brand new passphrase"


def _issue(app, sub: str, purpose: str = password_links.RESET, expires_in: int = 3600) -> str:
    """A fresh link's token, issued and committed."""
    with app.app_context():
        _, link = password_links.issue(find(sub), purpose, expires_in, "test")
        db.session.commit()
        return link.rsplit("/", 1)[-1]


def _use(app, token: str, password: str = NEW) -> str:
    with app.app_context():
        return password_links.use(token, password).sub


def _account(app, sub: str) -> dict:
    with app.app_context():
        account = find(sub)
        return {"hash": account.password_hash, "email_verified": account.email_verified}


def test_issue_stores_only_the_hash_and_links_to_the_reset_page(app, person):
    """The token is 256 bits, never stored; the link is ISSUER/password/reset/<token>."""
    with app.app_context():
        row, link = password_links.issue(find(person.sub), "reset", 3600, "test")
        db.session.commit()
        token = link.removeprefix("http://localhost/password/reset/")
        assert len(token) >= 43 and token not in row.token_hash
        assert row.expires_at - row.created_at == timedelta(hours=1)
        assert password_links.find_usable(token).id == row.id


def test_a_link_sets_the_password_once(app, person):
    """The first use sets the password (argon2id); the second is refused and writes
    nothing."""
    token = _issue(app, person.sub)
    _use(app, token)
    with app.app_context():
        assert authenticate(person.email, NEW) is not None
        assert authenticate(person.email, PASSWORD) is None
        assert find(person.sub).password_hash.startswith("$argon2id$")
    before = row_counts(app), _account(app, person.sub)
    with pytest.raises(password_links.LinkUnusable):
        _use(app, token, "yet another passphrase")
    assert (row_counts(app), _account(app, person.sub)) == before


def test_an_expired_link_is_refused(app, person):
    """Past expires_at the link neither shows nor sets anything."""
    token = _issue(app, person.sub)
    update_rows(app, PasswordToken, {}, expires_at=utcnow() - timedelta(seconds=1))
    before = _account(app, person.sub)
    with app.app_context():
        assert password_links.find_usable(token) is None
    with pytest.raises(password_links.LinkUnusable):
        _use(app, token)
    assert _account(app, person.sub) == before


@pytest.mark.parametrize("token", ["", "nope", "x" * 500])
def test_an_unknown_link_is_refused(app, person, token):
    """Tokens that match nothing (or are absurdly long) are simply unusable."""
    with app.app_context():
        assert password_links.find_usable(token) is None
    with pytest.raises(password_links.LinkUnusable):
        _use(app, token)


def test_a_weak_password_is_refused_and_the_link_still_works(app, person):
    """The policy is checked before anything is written; the link stays usable."""
    token = _issue(app, person.sub)
    before = row_counts(app), _account(app, person.sub)
    with pytest.raises(AccountError):
        _use(app, token, "short")
    assert (row_counts(app), _account(app, person.sub)) == before
    _use(app, token)


def test_a_disabled_accounts_link_does_not_work(app, person):
    """Disabling an account also stops its links."""
    token = _issue(app, person.sub)
    with app.app_context():
        disable(person.sub, "test")
    with pytest.raises(password_links.LinkUnusable):
        _use(app, token)


def test_enabling_the_account_again_does_not_revive_its_links(app, person):
    """Disable ends the links for good: a 30-day set-password link must not come back
    to life when the account is enabled again."""
    from app.accounts.service import enable

    token = _issue(app, person.sub, password_links.SET)
    with app.app_context():
        disable(person.sub, "test")
        enable(person.sub, "test")
    with pytest.raises(password_links.LinkUnusable):
        _use(app, token)


def test_a_new_link_ends_the_earlier_one_of_the_same_purpose(app, person):
    """Only the newest reset link works; a set-password link is another purpose."""
    first = _issue(app, person.sub)
    set_link = _issue(app, person.sub, password_links.SET)
    second = _issue(app, person.sub)
    with app.app_context():
        assert password_links.find_usable(first) is None
        assert password_links.find_usable(set_link) is not None
        assert password_links.find_usable(second) is not None


def test_using_a_link_ends_every_other_link_of_the_account(app, person):
    """After the password changed, no older link (of either purpose) can change it."""
    reset = _issue(app, person.sub)
    set_link = _issue(app, person.sub, password_links.SET)
    _use(app, reset)
    with app.app_context():
        assert password_links.find_usable(set_link) is None


def test_reset_marks_the_email_verified_set_does_not(app, factory):
    """A reset link went to the address; a set-password link may have been handed over."""
    subs = {}
    for purpose in (password_links.RESET, password_links.SET):
        subs[purpose] = factory.account(email=f"{purpose}@example.com").sub
        update_rows(app, Account, {"sub": subs[purpose]}, email_verified=False)
        _use(app, _issue(app, subs[purpose], purpose))
    assert _account(app, subs[password_links.RESET])["email_verified"] is True
    assert _account(app, subs[password_links.SET])["email_verified"] is False


@pytest.mark.parametrize(
    ("purpose", "event"),
    [(password_links.RESET, "user.password_reset"), (password_links.SET, "user.password_set")],
)
def test_use_records_an_event(app, person, purpose, event):
    """user.password_reset / user.password_set, by the account itself."""
    _use(app, _issue(app, person.sub, purpose))
    with app.app_context():
        row = db.session.scalar(select(Event).where(Event.type == event))
        assert row.actor == f"account:{person.sub}" and row.data == {"sub": person.sub}


def test_request_reset_queues_one_sealed_email_for_a_known_address(app, person):
    """A known address gets a reset_password email whose link works; the outbox row
    holds it sealed, never in clear."""
    with app.app_context():
        password_links.request_reset("  ADA@example.com ", "de")
    [(topic, recipient, link)] = emails(app)
    assert (topic, recipient) == ("reset_password", person.email)
    token = link.rsplit("/", 1)[-1]
    with app.app_context():
        assert password_links.find_usable(token).purpose == "reset"
        payload = db.session.scalar(select(OutboxItem.payload))
        assert token not in payload and "password/reset" not in payload
        requested = db.session.scalar(
            select(Event).where(Event.type == "user.password_reset_requested")
        )
        assert requested.actor == "self-service"


@pytest.mark.parametrize("address", ["nobody@example.com", "not an address", "disabled"])
def test_request_reset_does_nothing_for_unknown_or_disabled_accounts(app, factory, address):
    """No account (or a disabled one): nothing is written at all."""
    if address == "disabled":
        sub = factory.account(email="off@example.com").sub
        with app.app_context():
            disable(sub, "test")
        address = "off@example.com"
    before = row_counts(app)
    with app.app_context():
        password_links.request_reset(address, "en")
    assert row_counts(app) == before


def test_two_concurrent_uses_of_one_link_one_wins(app, person):
    """Two threads submit the same link at once: one sets its password, the other is
    refused; one event, and the winner's password is the one that works."""
    token = _issue(app, person.sub)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def submit(password: str) -> None:
        try:
            barrier.wait(timeout=20)
            with app.app_context():
                try:
                    password_links.use(token, password)
                    result = "ok"
                except password_links.LinkUnusable:
                    result = "refused"
        except Exception as exc:  # noqa: BLE001 - reported through the assertion below
            result = repr(exc)
        with lock:
            outcomes[password] = result

    passwords = ["first contender pw", "second contender pw"]
    threads = [threading.Thread(target=submit, args=(pw,)) for pw in passwords]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) == ["ok", "refused"], outcomes
    winner = next(pw for pw, result in outcomes.items() if result == "ok")
    loser = next(pw for pw in passwords if pw != winner)
    with app.app_context():
        events = select(func.count()).select_from(Event).where(Event.type == "user.password_reset")
        assert db.session.scalar(events) == 1
        assert authenticate(person.email, winner) is not None
        assert authenticate(person.email, loser) is None
