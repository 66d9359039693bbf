"""Verified addresses for everyone (issue 15, item 3): self-service registrations get a
verification link, the link can be sent again (rate limited per account and per
client address), and REQUIRE_VERIFIED_EMAIL pauses the authorization request at
"check your email" until the link is followed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts import verification
from app.accounts.service import find
from app.extensions import db
from app.models import Account, Consent
from tests.accounts.conftest import (
    account_values,
    confirm_link,
    outbox_messages,
    verify_paths,
)
from tests.helpers import (
    INITIATE_LOGIN_URI,
    Factory,
    authorize_params,
    authorize_url,
    csrf_token,
    pkce_pair,
    query,
    row_counts,
    sign_in_at,
    start_authorization,
    submit_registration,
)


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def shop(factory):
    """A first-party client with a login route."""
    return factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)


@pytest.fixture
def unverified(app, factory):
    """Ada, whose email is not verified."""
    person = factory.account("ada@example.com")
    with app.app_context():
        find(person.sub).email_verified = False
        db.session.commit()
    return person


@pytest.fixture
def required(app, monkeypatch):
    """REQUIRE_VERIFIED_EMAIL on for one test."""
    monkeypatch.setitem(app.config, "REQUIRE_VERIFIED_EMAIL", True)


def _signed_in_at_step(client, rp, person, **extra):
    """Authorize, sign in on the paused request; the page it shows next."""
    started = start_authorization(client, rp, **extra)
    signed_in = sign_in_at(client, started.location, person.email, person.password)
    assert signed_in.status_code == 303, signed_in.data
    return started, client.get(signed_in.location)


# -- self-service registration ------------------------------------------------------------


def test_self_service_registration_emails_a_verification_link(app, client, shop, monkeypatch):
    """Public sign-up creates an unverified account and queues its link, in the page's
    language, in the same transaction; following the link verifies the address."""
    monkeypatch.setitem(app.config, "SIGNUP_MODE", "public")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    started = start_authorization(client, shop, prompt="create")
    answer = submit_registration(client, started, email="Lin@Example.com")
    assert answer.status_code == 303, answer.data
    with app.app_context():
        account = db.session.scalar(select(Account))
        sub, verified = account.sub, account.email_verified
    assert verified is False
    ((recipient, payload),) = outbox_messages(app, "verify_email")
    assert recipient == "lin@example.com" and payload["lang"] == "de"
    ((_, path),) = verify_paths(app)
    assert confirm_link(app.test_client(), path).status_code == 200
    assert account_values(app, sub, "email_verified") == {"email_verified": True}


# -- sending the link again ----------------------------------------------------------------


def test_resending_ends_the_earlier_link(app, client, unverified):
    """A new link works; the one before it does not any more."""
    with app.app_context():
        verification.send_link(find(unverified.sub), "en", "test")
        db.session.commit()
    sign = client.get("/login")
    client.post(
        "/login",
        data={
            "csrf_token": csrf_token(_text(sign)),
            "email": unverified.email,
            "password": unverified.password,
        },
    )
    page = _text(client.get("/account"))
    assert "Send the confirmation link again" in page
    answer = client.post("/account/email/resend", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 303
    assert "We sent a new link to ada@example.com." in _text(client.get("/account"))
    (_, old), (_, new) = verify_paths(app)
    assert client.get(old).status_code == 410
    assert confirm_link(client, new).status_code == 200


def test_resending_for_a_verified_address_is_refused(app, client, factory):
    """Nothing to verify: 409 with the reason, nothing queued."""
    person = factory.account("ada@example.com")
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "csrf_token": csrf_token(_text(page)),
            "email": person.email,
            "password": person.password,
        },
    )
    counts = row_counts(app)
    answer = client.post(
        "/account/email/resend", data={"csrf_token": csrf_token(_text(client.get("/account")))}
    )
    assert answer.status_code == 409 and "verified already" in _text(answer)
    assert row_counts(app) == counts


def _people(app, *emails: str):
    """Accounts with an unverified email and an unverified mobile number."""
    factory = Factory(app)
    people = [factory.account(email) for email in emails]
    with app.app_context():
        for n, person in enumerate(people):
            account = find(person.sub)
            account.email_verified = False
            account.phone_number = f"+4915112345{n:03d}"
            db.session.commit()
    return people


def _signed_in(app, person):
    client = app.test_client()
    client.post("/login", data={"email": person.email, "password": person.password})
    return client


@pytest.mark.parametrize("path", ["/account/email/resend", "/account/phone/code"])
def test_verification_messages_are_limited_per_account(limited_app, path):
    """Past VERIFICATION_RATE_LIMIT one account is refused (429); another account from
    the same address is not."""
    app = limited_app(
        VERIFICATION_RATE_LIMIT="2 per hour",
        VERIFICATION_CLIENT_RATE_LIMIT="100 per hour",
        WTF_CSRF_ENABLED=False,
    )
    ada, grace = (
        _signed_in(app, person) for person in _people(app, "ada@x.example", "g@x.example")
    )
    assert [ada.post(path).status_code for _ in range(3)] == [303, 303, 429]
    assert grace.post(path).status_code == 303


@pytest.mark.parametrize("path", ["/account/email/resend", "/account/phone/code"])
def test_verification_messages_are_limited_per_client_address(limited_app, path):
    """Past VERIFICATION_CLIENT_RATE_LIMIT a client address is refused (429), whichever
    account asks."""
    app = limited_app(
        VERIFICATION_RATE_LIMIT="100 per hour",
        VERIFICATION_CLIENT_RATE_LIMIT="2 per hour",
        WTF_CSRF_ENABLED=False,
    )
    ada, grace = (
        _signed_in(app, person) for person in _people(app, "ada@x.example", "g@x.example")
    )
    assert [ada.post(path).status_code, grace.post(path).status_code] == [303, 303]
    refused = grace.post(path)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


# -- REQUIRE_VERIFIED_EMAIL --------------------------------------------------------------


def test_without_the_setting_an_unverified_email_gets_a_code(app, client, shop, unverified):
    """By default the client decides what an unverified email means."""
    _, page = _signed_in_at_step(client, shop, unverified)
    assert page.status_code == 302 and "code" in query(page.location)


def test_the_request_waits_until_the_link_is_followed_in_this_browser(
    app, client, shop, unverified, required
):
    """Signed in, the request pauses at "check your email" naming the address, offers the
    link again; the link followed in this browser leads back and a code is issued."""
    started, page = _signed_in_at_step(client, shop, unverified)
    html = _text(page)
    assert page.status_code == 200 and "Check your email" in html and "ada@example.com" in html
    continued = client.get(f"/interaction/{started.uid}?checked=1")
    assert "not confirmed yet" in _text(continued)

    resent = client.post(
        f"/interaction/{started.uid}/verify-email", data={"csrf_token": csrf_token(html)}
    )
    assert resent.status_code == 303 and resent.location.endswith(f"/interaction/{started.uid}")
    assert "We sent a new link to ada@example.com." in _text(client.get(resent.location))
    ((recipient, path),) = verify_paths(app)
    assert recipient == "ada@example.com"

    confirmed = confirm_link(client, path)
    assert confirmed.status_code == 303
    assert confirmed.location.endswith(f"/interaction/{started.uid}")
    answer = client.get(confirmed.location)
    assert answer.status_code == 302 and answer.location.startswith(shop.redirect_uri)
    assert query(answer.location)["state"] == started.params["state"]


def test_self_service_registration_then_waits_for_the_link(
    app, client, shop, required, monkeypatch
):
    """A new self-service account is signed in, and the request waits for its link."""
    monkeypatch.setitem(app.config, "SIGNUP_MODE", "public")
    started = start_authorization(client, shop, prompt="create")
    registered = submit_registration(client, started, email="lin@example.com")
    page = client.get(registered.location)
    assert page.status_code == 200 and "Check your email" in _text(page)
    assert [to for to, _ in verify_paths(app)] == ["lin@example.com"]


def test_prompt_none_answers_interaction_required(app, client, shop, unverified, required):
    """A signed-in person with an unverified email and prompt=none: interaction_required."""
    _signed_in_at_step(client, shop, unverified)
    verifier, challenge = pkce_pair()
    params = authorize_params(shop, challenge, prompt="none")
    answer = client.get(authorize_url(params))
    assert answer.status_code == 302
    assert query(answer.location)["error"] == "interaction_required"


def test_interaction_posts_check_the_step_they_complete(app, client, factory, unverified, required):
    """While the request waits for the email, the consent form issues no code and
    remembers nothing; once nothing waits, the resend form sends nothing."""
    partner = factory.client(client_id="partner", name="Partner", first_party=False)
    started, page = _signed_in_at_step(client, partner, unverified)
    token = csrf_token(_text(page))
    consent = client.post(
        f"/interaction/{started.uid}/consent", data={"csrf_token": token, "allow": "1"}
    )
    assert consent.status_code == 303 and consent.location.endswith(f"/interaction/{started.uid}")
    with app.app_context():
        assert db.session.scalar(select(Consent)) is None

    with app.app_context():
        find(unverified.sub).email_verified = True
        db.session.commit()
    counts = row_counts(app)
    resend = client.post(f"/interaction/{started.uid}/verify-email", data={"csrf_token": token})
    assert resend.status_code == 303 and resend.location.endswith(f"/interaction/{started.uid}")
    assert row_counts(app) == counts
    assert "Partner" in _text(client.get(resend.location))  # the consent page now
