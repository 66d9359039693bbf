"""The account page (issue 15, item 4): what a signed-in person sees and changes, and
every refusal: a clear 4xx, and nothing changed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.service import find
from app.extensions import db
from app.models import BrowserSession, Consent, Group, Invitation, PasswordToken, utcnow
from tests.accounts.conftest import (
    account_values,
    confirm_link,
    event_types,
    verify_paths,
)
from tests.helpers import (
    PASSWORD,
    Factory,
    authorize_params,
    authorize_url,
    csrf_token,
    invite,
    is_signed_in,
    obtain_tokens,
    pkce_pair,
    refresh,
    row_counts,
    sign_in,
    update_rows,
)

NEW_PASSWORD = "a sturdier passphrase"


def _text(response) -> str:
    return response.get_data(as_text=True)


# -- the page ------------------------------------------------------------------------------


def test_signed_out_browsers_are_sent_to_sign_in(client):
    """The page and its forms ask a signed-out browser to sign in, changing nothing."""
    assert client.get("/account").location == "/login"
    page = client.get("/login")
    token = csrf_token(_text(page))
    answer = client.post("/account/profile", data={"csrf_token": token, "given_name": "X"})
    assert answer.status_code == 303 and answer.location.startswith("/login?next=")


def test_the_page_shows_each_section(app, browser, person):
    """Email, profile, password, sessions, applications, groups and invitations, data."""
    with app.app_context():
        group = Group(name="staff")
        db.session.add(group)
        find(person.sub).groups = [group]
        db.session.commit()
    html = _text(browser.page())
    for section in ("email", "profile", "password", "sessions", "applications", "data"):
        assert f'id="{section}"' in html
    assert "ada@example.com" in html and person.sub in html
    assert "Firefox · Linux" in html and "203.0.113.7" in html
    assert "staff" in html


# -- profile -------------------------------------------------------------------------------


def test_profile_saves_names_fields_and_an_unverified_number(app, browser, person, monkeypatch):
    """Names, the configured fields and a new mobile number (unverified) are saved, with
    user.updated naming the fields; values of fields no longer configured are kept."""
    monkeypatch.setitem(
        app.config,
        "REGISTRATION_FIELDS",
        [{"name": "department", "label": "Department"}, {"name": "start", "type": "date"}],
    )
    with app.app_context():
        find(person.sub).custom_fields = {"legacy": "kept"}
        db.session.commit()
    answer = browser.post(
        "/account/profile",
        given_name=" Augusta ",
        family_name="King",
        phone_number="+44 20 7946 0000",
        department="Analytics",
        start="2026-12-01",
    )
    assert answer.status_code == 303 and answer.location.endswith("/account#profile")
    assert "Your profile is saved." in _text(browser.page())
    assert account_values(
        app, person.sub, "given_name", "family_name", "phone_number", "custom_fields"
    ) == {
        "given_name": "Augusta",
        "family_name": "King",
        "phone_number": "+442079460000",
        "custom_fields": {"legacy": "kept", "department": "Analytics", "start": "2026-12-01"},
    }
    assert (
        account_values(app, person.sub, "phone_number_verified")["phone_number_verified"] is False
    )
    assert event_types(app)[-1] == "user.updated"


@pytest.mark.parametrize(
    "fields, status, shown",
    [
        ({"phone_number": "0151 1234"}, 400, "E.164"),
        ({"given_name": "x" * 129}, 400, "longer than 128"),
        ({"phone_number": "+4915199999999"}, 409, "already exists"),
    ],
)
def test_profile_refusals_change_nothing(app, browser, person, factory, fields, status, shown):
    """A bad number, an overlong name or another account's number: the form again with
    the reason, and no row changed."""
    other = factory.account("grace@example.com")
    with app.app_context():
        find(other.sub).phone_number = "+4915199999999"
        db.session.commit()
    before = account_values(app, person.sub, "given_name", "phone_number", "updated_at")
    counts = row_counts(app)
    answer = browser.post("/account/profile", **{"given_name": "Ada", **fields})
    assert answer.status_code == status
    assert shown in _text(answer)
    assert account_values(app, person.sub, "given_name", "phone_number", "updated_at") == before
    assert row_counts(app) == counts


# -- password ------------------------------------------------------------------------------


def test_a_new_password_signs_out_everything_else(app, browser, other_browser, person, factory):
    """The current password opens the change; other browsers and every refresh token
    end, this browser stays signed in, and the new password works from then on."""
    rp = factory.client(name="Shop")
    tokens = obtain_tokens(other_browser.client, rp, person)
    answer = browser.post("/account/password", current_password=PASSWORD, new_password=NEW_PASSWORD)
    assert answer.status_code == 303 and answer.location.endswith("/account#password")
    assert is_signed_in(browser.client)
    assert not is_signed_in(other_browser.client)
    assert refresh(other_browser.client, rp, tokens["refresh_token"]).json["error"] == (
        "invalid_grant"
    )
    assert "user.password_changed" in event_types(app)
    fresh = app.test_client()
    assert sign_in(fresh, person).status_code == 400  # the old password is refused
    person.password = NEW_PASSWORD
    assert sign_in(fresh, person).status_code == 303


@pytest.mark.parametrize(
    "current, new, shown",
    [
        ("not the password", NEW_PASSWORD, "The current password is not right"),
        (PASSWORD, "short", "at least 8"),
        ("", NEW_PASSWORD, "This field is required."),
    ],
)
def test_password_refusals_change_nothing(app, browser, other_browser, person, current, new, shown):
    """A wrong current password, a too short new one, a missing field: 400 with the
    reason; the password and every session stay."""
    before = account_values(app, person.sub, "password_hash")
    answer = browser.post("/account/password", current_password=current, new_password=new)
    assert answer.status_code == 400
    assert shown.lower() in _text(answer).lower()
    assert account_values(app, person.sub, "password_hash") == before
    assert is_signed_in(browser.client) and is_signed_in(other_browser.client)


def test_wrong_current_passwords_count_towards_the_sign_in_back_off(app, browser, person):
    """The per-address back-off of sign-in covers the account page: past the free
    failures the form answers 429 with Retry-After and checks no password."""
    before = account_values(app, person.sub, "password_hash")
    for _ in range(app.config["SIGN_IN_FREE_FAILURES"]):
        wrong = browser.post("/account/password", current_password="nope", new_password="x" * 9)
        assert wrong.status_code == 400
    answer = browser.post("/account/password", current_password=PASSWORD, new_password="x" * 9)
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in _text(answer)
    assert account_values(app, person.sub, "password_hash") == before
    assert sign_in(app.test_client(), person).status_code == 429


# -- email ---------------------------------------------------------------------------------


def test_a_new_email_becomes_the_address_only_when_its_link_is_followed(app, browser, person):
    """The new address is sent a link; until it is followed the old address signs in and
    stays the account's; following it makes the new one the (verified) email."""
    answer = browser.post("/account/email", email="Ada@Analytical.example", email_password=PASSWORD)
    assert answer.status_code == 303 and answer.location.endswith("/account#email")
    page = _text(browser.page())
    assert "ada@analytical.example" in page and "Waiting for confirmation" in page
    assert account_values(app, person.sub, "email")["email"] == "ada@example.com"
    assert sign_in(app.test_client(), person).status_code == 303
    ((recipient, path),) = verify_paths(app)
    assert recipient == "ada@analytical.example"
    with app.app_context():
        reset = PasswordToken(
            token_hash="r" * 64,
            account_id=find(person.sub).id,
            purpose="reset",
            created_by="t",
            expires_at=utcnow() + timedelta(hours=1),
        )
        db.session.add(reset)
        db.session.commit()

    assert confirm_link(app.test_client(), path).status_code == 200
    assert account_values(app, person.sub, "email", "email_verified") == {
        "email": "ada@analytical.example",
        "email_verified": True,
    }
    assert event_types(app)[-2:] == ["user.updated", "user.email_verified"]
    with app.app_context():  # the reset link mailed to the old address ends
        row = db.session.scalar(select(PasswordToken).where(PasswordToken.purpose == "reset"))
        assert not row.usable(utcnow())


@pytest.mark.parametrize(
    "email, password, status, shown",
    [
        ("ada@analytical.example", "not the password", 400, "not right"),
        ("ada@example.com", PASSWORD, 400, "your email address already"),
        ("grace@example.com", PASSWORD, 409, "already exists"),
        ("not-an-address", PASSWORD, 400, "not a valid email address"),
    ],
)
def test_email_change_refusals_send_nothing(
    app, browser, person, factory, email, password, status, shown
):
    """Wrong password, the same address, another account's, no address at all: the
    reason, and no link, no row."""
    factory.account("grace@example.com")
    counts = row_counts(app)
    answer = browser.post("/account/email", email=email, email_password=password)
    assert answer.status_code == status
    assert shown in _text(answer)
    assert row_counts(app)["outbox"] == counts["outbox"]
    assert row_counts(app)["password_tokens"] == counts["password_tokens"]


def test_an_address_taken_before_its_link_is_followed_is_refused(app, browser, person, factory):
    """Someone registered the new address meanwhile: following the link says so (409)
    and changes nothing; the link stays unused."""
    browser.post("/account/email", email="new@example.com", email_password=PASSWORD)
    ((_, path),) = verify_paths(app)
    factory.account("new@example.com")
    answer = confirm_link(app.test_client(), path)
    assert answer.status_code == 409 and "already exists" in _text(answer)
    assert account_values(app, person.sub, "email")["email"] == "ada@example.com"
    with app.app_context():
        assert db.session.scalar(select(PasswordToken.used_at)) is None


# -- sessions --------------------------------------------------------------------------------


def test_last_seen_is_written_at_most_once_a_minute(app, browser, person):
    """A request updates last_seen_at only when the stored one is a minute old or more."""
    recent = utcnow() - timedelta(seconds=30)
    update_rows(app, BrowserSession, {"ended_at": None}, last_seen_at=recent)
    browser.page()
    with app.app_context():
        assert db.session.scalar(select(BrowserSession.last_seen_at)) == recent
    stale = utcnow() - timedelta(minutes=5)
    update_rows(app, BrowserSession, {"ended_at": None}, last_seen_at=stale)
    browser.page()
    with app.app_context():
        assert db.session.scalar(select(BrowserSession.last_seen_at)) > stale


def _public_sids(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(BrowserSession.id, BrowserSession.public_sid)).all())


def test_ending_one_session_signs_that_browser_out(app, browser, other_browser):
    """The other browser's session ends; this one stays."""
    first, second = sorted(_public_sids(app).items())
    answer = browser.post(f"/account/sessions/{second[1]}/end")
    assert answer.status_code == 303 and answer.location.endswith("#sessions")
    assert not is_signed_in(other_browser.client) and is_signed_in(browser.client)


def test_ending_all_other_sessions(app, browser, other_browser, person):
    """Every other browser is signed out, this one is not."""
    third = app.test_client()
    sign_in(third, person)
    answer = browser.post("/account/sessions/end-others")
    assert answer.status_code == 303
    assert "2 other browsers are signed out." in _text(browser.page())
    assert not is_signed_in(other_browser.client) and not is_signed_in(third)
    assert is_signed_in(browser.client)


def test_another_persons_session_cannot_be_ended(app, browser, factory):
    """A session id of someone else (or an unknown one) is a 404; nothing ends."""
    grace = factory.account("grace@example.com")
    theirs = app.test_client()
    sign_in(theirs, grace)
    sids = _public_sids(app)
    answer = browser.post(f"/account/sessions/{sids[max(sids)]}/end")
    assert answer.status_code == 404 and "has ended already" in _text(answer)
    assert browser.post("/account/sessions/nope/end").status_code == 404
    assert is_signed_in(theirs)


# -- applications ----------------------------------------------------------------------------


def _consent_to(client, rp, person) -> dict:
    """A third-party client's code flow with consent; its tokens."""
    _, challenge = pkce_pair()
    started = client.get(authorize_url(authorize_params(rp, challenge)))
    page = client.get(started.location)
    client.post(
        started.location + "/consent",
        data={"csrf_token": csrf_token(_text(page)), "allow": "Allow"},
    )
    return obtain_tokens(client, rp, person)


def test_revoking_an_application_ends_its_tokens_and_consent(app, browser, person, factory):
    """Its refresh tokens fail, its consent is forgotten (the next request asks again),
    consent.revoked is recorded; another application keeps its tokens."""
    partner = factory.client(client_id="partner", name="Partner", first_party=False)
    other = factory.client(client_id="other", name="Other", first_party=False)
    tokens = _consent_to(browser.client, partner, person)
    kept = _consent_to(browser.client, other, person)
    assert "Partner" in _text(browser.page())

    answer = browser.post("/account/applications/partner/revoke")
    assert answer.status_code == 303 and answer.location.endswith("#applications")
    assert "Partner no longer has access" in _text(browser.page())
    assert refresh(browser.client, partner, tokens["refresh_token"]).json["error"] == (
        "invalid_grant"
    )
    assert refresh(browser.client, other, kept["refresh_token"]).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Consent.client_id).where(Consent.scope != "")) is not None
        assert len(list(db.session.scalars(select(Consent)))) == 1
    assert "consent.revoked" in event_types(app)
    _, challenge = pkce_pair()
    again = browser.client.get(authorize_url(authorize_params(partner, challenge)))
    assert "/interaction/" in again.location  # consent is asked for again


def test_revoking_an_application_never_granted_is_a_404(app, browser, factory):
    """A client the person never consented to: 404, nothing written."""
    factory.client(client_id="partner", name="Partner", first_party=False)
    counts = row_counts(app)
    answer = browser.post("/account/applications/partner/revoke")
    assert answer.status_code == 404 and "not let this application in" in _text(answer)
    assert row_counts(app) == counts


# -- data --------------------------------------------------------------------------------------


def test_the_export_holds_the_persons_data(app, browser, person):
    """A JSON download of the profile, groups, sessions, applications, accepted
    invitations and events; never a password hash."""
    inv = invite(app, email="ada.lovelace@example.com", notify=False)
    with app.app_context():
        row = db.session.scalar(select(Invitation).where(Invitation.public_id == inv.id))
        row.state, row.accepted_sub, row.accepted_at = "accepted", person.sub, utcnow()
        db.session.commit()
    answer = browser.client.get("/account/export")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(answer.data)
    assert data["account"]["sub"] == person.sub
    assert data["account"]["email"] == "ada@example.com"
    assert data["sessions"][0]["browser"].endswith("Firefox/128.0")
    assert data["invitations"][0]["id"] == inv.id
    assert "user.login" in [event["type"] for event in data["events"]]
    assert "argon2" not in answer.get_data(as_text=True)


def test_deleting_the_account_needs_the_password(app, browser, person, factory):
    """A wrong password deletes nothing; the right one deletes the account and what it
    held, signs out, records user.deleted, and says so once."""
    rp = factory.client(name="Shop")
    tokens = obtain_tokens(browser.client, rp, person)
    page = browser.client.get("/account/delete")
    assert page.status_code == 200
    token = csrf_token(_text(page))
    counts = row_counts(app)
    wrong = browser.client.post("/account/delete", data={"csrf_token": token, "password": "x"})
    assert wrong.status_code == 400 and "not right" in _text(wrong)
    assert row_counts(app)["accounts"] == counts["accounts"]

    gone = browser.client.post("/account/delete", data={"csrf_token": token, "password": PASSWORD})
    assert gone.status_code == 303 and gone.location == "/account/deleted"
    assert "Your account is deleted" in _text(browser.client.get("/account/deleted"))
    assert browser.client.get("/account/deleted").status_code == 302  # said once
    after = row_counts(app)
    assert after["accounts"] == counts["accounts"] - 1
    assert after["browser_sessions"] == after["tokens"] == 0
    assert not is_signed_in(browser.client)
    assert refresh(browser.client, rp, tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert event_types(app)[-1] == "user.deleted"
    assert sign_in(app.test_client(), person).status_code == 400  # no such account


# -- CSRF and rate limits ------------------------------------------------------------------------

FORMS = [
    ("/account/profile", {"given_name": "Eve"}),
    ("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    ("/account/email", {"email": "eve@example.com", "email_password": PASSWORD}),
    ("/account/email/resend", {}),
    ("/account/phone/code", {}),
    ("/account/phone/verify", {"code": "123456"}),
    ("/account/sessions/end-others", {}),
    ("/account/applications/partner/revoke", {}),
    ("/account/delete", {"password": PASSWORD}),
]


@pytest.mark.parametrize("path, data", FORMS, ids=[path for path, _ in FORMS])
def test_every_account_form_needs_its_csrf_token(app, browser, path, data):
    """Without the token (or sent from another site) a form is refused with 400 and
    nothing is written."""
    counts = row_counts(app)
    assert browser.client.post(path, data=data).status_code == 400
    token = csrf_token(_text(browser.page()))
    cross = browser.client.post(
        path, data={"csrf_token": token, **data}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 400
    assert row_counts(app) == counts
    assert is_signed_in(browser.client)


def test_the_account_forms_are_rate_limited_per_client_address(limited_app):
    """Past ACCOUNT_RATE_LIMIT the profile form answers 429 with Retry-After."""
    app = limited_app(ACCOUNT_RATE_LIMIT="2 per minute", WTF_CSRF_ENABLED=False)
    person = Factory(app).account("ada@example.com")
    client = app.test_client()
    client.post("/login", data={"email": person.email, "password": person.password})
    codes = [client.post("/account/profile", data={"given_name": "A"}) for _ in "abc"]
    assert [answer.status_code for answer in codes] == [303, 303, 429]
    assert int(codes[-1].headers["Retry-After"]) > 0
