"""The passkey service (issue 16): registration and sign-in checks on real signatures
(a software authenticator), and what surrounds the ceremony: challenges spent once and
expiring, sign-count regressions, duplicate credentials, the relying party's id and
origins, and refusals that change nothing."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from flask import session
from sqlalchemy import func, select

from app.accounts import passkeys
from app.accounts.service import find
from app.extensions import db
from app.models import Event, utcnow
from app.models.factors import Passkey, SpentChallenge
from app.outbox.purge import purge_old
from tests.accounts.soft_passkey import SoftPasskey
from tests.helpers import row_counts


def _registered(app, sub: str, authenticator: SoftPasskey, name: str = "Laptop") -> Passkey:
    """``authenticator``'s credential added to the account ``sub`` (inside a context)."""
    account = find(sub)
    options = json.loads(passkeys.registration_options(account.email, account.name, account))
    return passkeys.add(account, authenticator.create(options), name)


def _sign_in(authenticator: SoftPasskey, **answer):
    options = json.loads(passkeys.authentication_options())
    return passkeys.authenticate(authenticator.get(options, **answer))


def test_options_ask_for_user_verification_and_a_discoverable_key(app, factory):
    """Registration options: our relying party, a random user handle (never the sub),
    resident key preferred, user verification required; sign-in options list no
    credential (the authenticator offers its own) and require user verification."""
    person = factory.account()
    with app.test_request_context():
        account = find(person.sub)
        created = json.loads(passkeys.registration_options(account.email, account.name, account))
        asked = json.loads(passkeys.authentication_options())
    assert created["rp"] == {"id": "localhost", "name": app.config["ACCOUNT_NAME"]}
    assert created["user"]["name"] == person.email
    assert person.sub.encode() not in created["user"]["id"].encode()
    assert created["authenticatorSelection"]["residentKey"] == "preferred"
    assert created["authenticatorSelection"]["userVerification"] == "required"
    assert asked["rpId"] == "localhost"
    assert asked["userVerification"] == "required"
    assert asked.get("allowCredentials", []) == []


def test_relying_party_follows_issuer_and_settings(app, monkeypatch):
    """The ISSUER's host and origin by default; WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS win."""
    monkeypatch.setitem(app.config, "ISSUER", "https://id.example.com:8443/base")
    with app.test_request_context():
        assert passkeys.rp_id() == "id.example.com"
        assert passkeys.origins() == ["https://id.example.com:8443"]
        monkeypatch.setitem(app.config, "WEBAUTHN_RP_ID", "example.com")
        monkeypatch.setitem(app.config, "WEBAUTHN_ORIGINS", ["https://a.example.com"])
        assert passkeys.rp_id() == "example.com"
        assert passkeys.origins() == ["https://a.example.com"]


def test_register_then_sign_in(app, factory):
    """A registered passkey signs its account in: the counter and last use are kept,
    the account gets a user handle, amr is hwk (swk for a synced passkey)."""
    person = factory.account()
    device, synced = SoftPasskey(), SoftPasskey(synced=True)
    with app.test_request_context():
        stored = _registered(app, person.sub, device)
        assert stored.name == "Laptop" and stored.transports == ["internal"]
        assert stored.credential_id == device.id and not stored.backup_eligible
        assert find(person.sub).webauthn_handle == device.handle.decode()
        account, used = _sign_in(device)
        assert account.sub == person.sub and used.sign_count == 1
        assert used.last_used_at is not None
        assert passkeys.amr_of(used) == ["hwk"]
        _registered(app, person.sub, synced, "Phone")
        account, used = _sign_in(synced)
        assert account.sub == person.sub and passkeys.amr_of(used) == ["swk"]


def test_a_challenge_works_once(app, factory):
    """The first answer spends the challenge; the same answer again is refused."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        options = json.loads(passkeys.authentication_options())
        answer = device.get(options)
        passkeys.authenticate(answer)
        with pytest.raises(passkeys.PasskeyRefused, match="expired"):
            passkeys.authenticate(answer)


def test_a_failed_answer_spends_the_challenge_too(app, factory):
    """A wrong answer (another challenge) is refused, and the right one cannot follow it."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        options = json.loads(passkeys.authentication_options())
        with pytest.raises(passkeys.PasskeyRefused, match="another request"):
            passkeys.authenticate(device.get(options, challenge="b3RoZXItY2hhbGxlbmdl"))
        with pytest.raises(passkeys.PasskeyRefused, match="expired"):
            passkeys.authenticate(device.get(options))


def test_a_copy_of_the_cookie_cannot_replay_a_sign_in(app, factory):
    """Synced passkeys count no signatures (always 0), so the counter cannot catch a
    replay. The session is a cookie: a copy taken before the answer still holds the
    challenge, and the same answer sent with it is refused and changes nothing."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        options = json.loads(passkeys.authentication_options())
        copied = json.loads(json.dumps(dict(session)))
        answer = device.get(options, count=0)
        passkeys.authenticate(answer)
        first_use = db.session.scalar(select(Passkey.last_used_at))
        session.update(copied)
        with pytest.raises(passkeys.PasskeyRefused, match="answered already"):
            passkeys.authenticate(answer)
        assert db.session.scalar(select(Passkey.last_used_at)) == first_use
        assert db.session.scalar(select(func.count()).select_from(SpentChallenge)) == 1


def test_refused_answers_keep_no_challenge_and_purge_drops_old_ones(app, factory):
    """Only a sign-in records its challenge (a refusal writes nothing); ``vestibule
    purge`` deletes records a day past their expiry and keeps the others."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        with pytest.raises(passkeys.PasskeyRefused, match="could not be verified"):
            _sign_in(device, verified=False)
        assert db.session.scalar(select(func.count()).select_from(SpentChallenge)) == 0
        _sign_in(device)
        db.session.add(SpentChallenge(digest="0" * 64, expires_at=utcnow() - timedelta(days=2)))
        db.session.commit()
        assert purge_old()["spent passkey challenges"] == 1
        kept = db.session.scalars(select(SpentChallenge.expires_at)).all()
        assert len(kept) == 1 and kept[0] > utcnow()


def test_a_challenge_expires(app, factory, monkeypatch):
    """An answer after WEBAUTHN_CHALLENGE_LIFETIME is refused."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        options = json.loads(passkeys.authentication_options())
        later = time.time() + app.config["WEBAUTHN_CHALLENGE_LIFETIME"] + 1
        monkeypatch.setattr(passkeys.time, "time", lambda: later)
        with pytest.raises(passkeys.PasskeyRefused, match="expired"):
            passkeys.authenticate(device.get(options))


def test_challenges_are_per_browser(app, factory):
    """An answer to one browser's challenge does not work in another browser."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        options = json.loads(passkeys.authentication_options())
    with app.test_request_context():
        passkeys.authentication_options()  # this browser's own, different challenge
        with pytest.raises(passkeys.PasskeyRefused, match="another request"):
            passkeys.authenticate(device.get(options))


def test_sign_count_regression_is_refused(app, factory):
    """A counter that does not grow past the stored one (a cloned key) is refused and
    the stored counter stays."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        _sign_in(device, count=5)
        with pytest.raises(passkeys.PasskeyRefused, match="could not be verified"):
            _sign_in(device, count=5)
        with pytest.raises(passkeys.PasskeyRefused, match="could not be verified"):
            _sign_in(device, count=3)
        assert db.session.scalar(select(Passkey.sign_count)) == 5
        _sign_in(device, count=6)


def test_counters_of_zero_are_accepted(app, factory):
    """Authenticators that keep no counter (always 0, as synced passkeys do) sign in."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        _sign_in(device, count=0)
        _sign_in(device, count=0)


@pytest.mark.parametrize(
    "answer, refusal",
    [
        ({"verified": False}, "could not be verified"),
        ({"origin": "https://evil.example"}, "could not be verified"),
    ],
)
def test_unverified_or_foreign_answers_are_refused(app, factory, answer, refusal):
    """No user verification, or another origin: refused, nothing changes."""
    person = factory.account()
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        before = row_counts(app)
        with pytest.raises(passkeys.PasskeyRefused, match=refusal):
            _sign_in(device, **answer)
        stored = db.session.scalar(select(Passkey))
        assert stored.sign_count == 0 and stored.last_used_at is None
    assert row_counts(app) == before


def test_registration_without_user_verification_is_refused(app, factory):
    """An authenticator that did not verify the person registers nothing."""
    person = factory.account()
    device = SoftPasskey()
    before = row_counts(app)
    with app.test_request_context():
        account = find(person.sub)
        options = json.loads(passkeys.registration_options(account.email, None, account))
        with pytest.raises(passkeys.PasskeyRefused):
            passkeys.add(account, device.create(options, verified=False), "Laptop")
    assert row_counts(app) == before


def test_a_registered_credential_is_refused_again(app, factory):
    """The same credential cannot be added twice, to the same or another account."""
    ada, grace = factory.account(), factory.account("grace@example.com")
    device = SoftPasskey()
    with app.test_request_context():
        _registered(app, ada.sub, device)
        before = row_counts(app)
        with pytest.raises(passkeys.PasskeyTaken):
            _registered(app, grace.sub, device)
        assert find(grace.sub).webauthn_handle is None
    assert row_counts(app) == before


def test_unknown_or_disabled_passkeys_do_not_sign_in(app, factory):
    """A credential never registered, or one of a disabled account, is refused; so is a
    user handle that is not the account's."""
    person = factory.account()
    device, stranger = SoftPasskey(), SoftPasskey()
    with app.test_request_context():
        _registered(app, person.sub, device)
        with pytest.raises(passkeys.PasskeyRefused, match="not registered"):
            _sign_in(stranger)
        device.handle = b"someone-else"
        with pytest.raises(passkeys.PasskeyRefused, match="not registered"):
            _sign_in(device)
        device.handle = None  # an authenticator may leave it out
        _sign_in(device)
        find(person.sub).disabled = True
        db.session.commit()
        with pytest.raises(passkeys.PasskeyRefused, match="not registered"):
            _sign_in(device)


@pytest.mark.parametrize(
    "answer",
    ["", "not json", "[1, 2]", json.dumps({"id": "x"}), "{" * 5000, "x" * 70_000],
)
def test_malformed_answers_are_refused(app, factory, answer):
    """Junk in place of the browser's answer is a clear refusal, never a crash."""
    with app.test_request_context():
        passkeys.authentication_options()
        with pytest.raises(passkeys.PasskeyRefused):
            passkeys.authenticate(answer)
        passkeys.registration_options("ada@example.com", None, None)
        with pytest.raises(passkeys.PasskeyRefused):
            passkeys.verify_registration(answer)


def test_rename_and_remove(app, factory):
    """A person renames and removes their own passkeys only; names are checked."""
    ada, grace = factory.account(), factory.account("grace@example.com")
    with app.test_request_context():
        stored = _registered(app, ada.sub, SoftPasskey())
        passkey_id = stored.id
        ada_account, grace_account = find(ada.sub), find(grace.sub)
        assert passkeys.rename(ada_account, passkey_id, "  Work   laptop ").name == "Work laptop"
        for bad in ("", "   ", "x" * 65):
            with pytest.raises(passkeys.AccountError):
                passkeys.rename(ada_account, passkey_id, bad)
        with pytest.raises(passkeys.PasskeyNotFound):
            passkeys.rename(grace_account, passkey_id, "Mine now")
        with pytest.raises(passkeys.PasskeyNotFound):
            passkeys.remove(grace_account, passkey_id)
        passkeys.remove(ada_account, passkey_id)
        assert passkeys.passkeys_of(ada_account) == []
        query = select(Event.type, Event.actor, Event.data).where(Event.type.like("%passkey%"))
        recorded = db.session.execute(query.order_by(Event.id)).all()
    assert [(t, a) for t, a, _ in recorded] == [
        ("user.passkey_added", f"account:{ada.sub}"),
        ("user.passkey_removed", f"account:{ada.sub}"),
    ]
    assert recorded[0][2] == {"sub": ada.sub, "name": "Laptop"}
    assert recorded[1][2] == {"sub": ada.sub, "name": "Work laptop"}


def test_the_last_credential_of_a_passkey_only_account_stays(app, factory):
    """Without a password the last passkey cannot be removed; with two, one can."""
    person = factory.account()
    with app.test_request_context():
        first = _registered(app, person.sub, SoftPasskey()).id
        account = find(person.sub)
        account.password_hash = None
        db.session.commit()
        with pytest.raises(passkeys.LastCredential):
            passkeys.remove(account, first)
        second = _registered(app, person.sub, SoftPasskey(), "Phone").id
        passkeys.remove(account, first)
        with pytest.raises(passkeys.LastCredential):
            passkeys.remove(account, second)
        assert [p.id for p in passkeys.passkeys_of(account)] == [second]


def test_passkey_requests_are_rate_limited(limited_app):
    """Options under ACCOUNT_RATE_LIMIT, passkey sign-ins under SIGN_IN_RATE_LIMIT (per
    client address): 429 with Retry-After past them."""
    app = limited_app(
        ACCOUNT_RATE_LIMIT="2 per minute", SIGN_IN_RATE_LIMIT="1 per minute", WTF_CSRF_ENABLED=False
    )
    client = app.test_client()
    asked = [client.post("/passkeys/authentication-options", json={}) for _ in "abc"]
    assert [answer.status_code for answer in asked] == [200, 200, 429]
    assert int(asked[-1].headers["Retry-After"]) > 0
    signs = [client.post("/login/passkey", data={"credential": "{}"}) for _ in "ab"]
    assert [answer.status_code for answer in signs] == [400, 429]


def test_a_passkey_only_account_page_leads_to_setting_a_password(app, client, factory):
    """Without a password the page asks for none: it offers a set-password link by
    email instead of the change forms, and asking for one queues the email."""
    from tests.accounts.conftest import outbox_messages
    from tests.helpers import csrf_token, sign_in

    person = factory.account()
    sign_in(client, person)
    with app.app_context():
        find(person.sub).password_hash = None
        db.session.commit()
    page = client.get("/account").get_data(as_text=True)
    assert 'id="no-password"' in page and 'id="email-needs-password"' in page
    assert 'name="current_password"' not in page and 'name="email_password"' not in page
    forgot = client.get("/password/forgot").get_data(as_text=True)
    answer = client.post(
        "/password/forgot", data={"csrf_token": csrf_token(forgot), "email": person.email}
    )
    assert answer.status_code == 303
    assert [to for to, _ in outbox_messages(app, "reset_password")] == [person.email]
