"""The password pages (app/web/password.py): "forgot your password?" answers every
address alike, a link opens a form once, and a new password ends every other sign-in."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Account, OutboxItem, PasswordToken, utcnow
from app.outbox.queue import payload_of
from tests.helpers import (
    PASSWORD,
    bearer,
    csrf_token,
    is_signed_in,
    obtain_tokens,
    refresh,
    row_counts,
    sign_in,
    update_rows,
)
from tests.password.conftest import emails

NEW = "a brand new passphrase"


def ask_for_link(browser, email: str, **headers):
    """Submit the forgot form for ``email``; returns the POST's response."""
    page = browser.get("/password/forgot", headers=headers)
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email}
    return browser.post("/password/forgot", data=data, headers=headers)


def mailed_path(app) -> str:
    """The path of the newest reset link in the outbox."""
    return urlsplit(emails(app, "reset_password")[-1][2]).path


def choose_password(browser, path: str, password: str = NEW):
    """Open a link's page and submit the new password."""
    page = browser.get(path)
    assert page.status_code == 200, page.data
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "password": password}
    return browser.post(path, data=data)


def text_of(response) -> str:
    """The visible text of a page's main card (no CSRF token, no markup)."""
    html = response.get_data(as_text=True)
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def password_hash(app, email: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Account.password_hash).where(Account.email == email))


# -- forgot ----------------------------------------------------------------------------


def test_forgot_answers_the_same_for_known_and_unknown_addresses(app, client, person):
    """Same status, same redirect, same page text; only the known address gets mail."""
    known = ask_for_link(client, person.email)
    unknown = ask_for_link(app.test_client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 303
    assert known.location == unknown.location
    assert text_of(client.get(known.location)) == text_of(client.get(unknown.location))
    assert "If an account exists for that address" in text_of(client.get(known.location))
    assert [(topic, to) for topic, to, _ in emails(app)] == [("reset_password", person.email)]


def test_forgot_page_speaks_german(app, client, person):
    """Accept-Language: de gives the German page, and the German email."""
    response = ask_for_link(client, person.email, **{"Accept-Language": "de"})
    page = client.get(response.location, headers={"Accept-Language": "de"})
    assert "Falls es zu dieser Adresse ein Konto gibt" in text_of(page)
    with app.app_context():
        assert "Passwort" in str(payload_of(db.session.scalar(select(OutboxItem))))


def test_forgot_without_an_address_shows_the_form_again(app, client):
    """An empty address is a 400 form, and nothing is written."""
    before = row_counts(app)
    assert ask_for_link(client, "").status_code == 400
    assert row_counts(app) == before


def test_sign_in_page_links_to_forgot(client):
    """The sign-in page offers "Forgot your password?"."""
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)


# -- the link --------------------------------------------------------------------------


def test_reset_through_the_mailed_link(app, client, person):
    """The mailed link sets a new password: the old one fails, the new one signs in."""
    ask_for_link(client, person.email)
    response = choose_password(client, mailed_path(app))
    assert response.status_code == 303 and response.location == "/password/changed"
    page = client.get(response.location)
    assert page.status_code == 200 and "Your password was changed" in text_of(page)
    person.password = PASSWORD
    assert sign_in(app.test_client(), person).status_code == 400
    person.password = NEW
    assert sign_in(app.test_client(), person).status_code == 303


def test_opening_a_link_writes_nothing(app, client, person):
    """GET (a mail scanner) shows the form and changes nothing; the link still works."""
    ask_for_link(client, person.email)
    before = row_counts(app)
    page = client.get(mailed_path(app))
    assert page.status_code == 200 and "Choose a new password" in text_of(page)
    assert person.email in text_of(page)
    assert row_counts(app) == before
    assert choose_password(client, mailed_path(app)).status_code == 303


def test_a_link_works_once(app, client, person):
    """The second use shows the expired page (410) and writes nothing."""
    ask_for_link(client, person.email)
    path = mailed_path(app)
    page = client.get(path).get_data(as_text=True)
    assert choose_password(client, path).status_code == 303
    before = row_counts(app), password_hash(app, person.email)
    again = client.post(path, data={"csrf_token": csrf_token(page), "password": "other pass 123"})
    assert again.status_code == 410
    assert "This link has expired or was already used" in text_of(again)
    assert 'href="/password/forgot"' in again.get_data(as_text=True)
    assert client.get(path).status_code == 410
    assert (row_counts(app), password_hash(app, person.email)) == before


@pytest.mark.parametrize("path", ["/password/reset/unknown-token", "/password/reset/" + "x" * 300])
def test_an_unknown_link_shows_the_expired_page(client, path):
    """Unknown tokens get the same clear page."""
    response = client.get(path)
    assert response.status_code == 410 and "/password/forgot" in response.get_data(as_text=True)


def test_an_expired_link_is_refused(app, client, person):
    """Past its lifetime the link shows the expired page, and a POST changes nothing."""
    ask_for_link(client, person.email)
    path = mailed_path(app)
    page = client.get(path).get_data(as_text=True)
    update_rows(app, PasswordToken, {}, expires_at=utcnow() - timedelta(seconds=1))
    assert client.get(path).status_code == 410
    before = password_hash(app, person.email)
    response = client.post(path, data={"csrf_token": csrf_token(page), "password": NEW})
    assert response.status_code == 410
    assert password_hash(app, person.email) == before


def test_a_weak_password_shows_the_form_again_and_writes_nothing(app, client, person):
    """Too short: 400 with the rule, nothing written, and the link still works."""
    ask_for_link(client, person.email)
    path = mailed_path(app)
    before = row_counts(app), password_hash(app, person.email)
    response = choose_password(client, path, "short")
    assert response.status_code == 400
    assert "at least 8 characters" in text_of(response)
    assert (row_counts(app), password_hash(app, person.email)) == before
    assert choose_password(client, path).status_code == 303


def test_a_post_without_csrf_token_is_refused(app, client, person):
    """Both forms need their CSRF token; without it nothing is sent or written."""
    before = row_counts(app)
    assert client.post("/password/forgot", data={"email": person.email}).status_code == 400
    assert row_counts(app) == before
    ask_for_link(client, person.email)
    path = mailed_path(app)
    before = row_counts(app), password_hash(app, person.email)
    assert client.post(path, data={"password": NEW}).status_code == 400
    assert (row_counts(app), password_hash(app, person.email)) == before


def test_a_reset_ends_every_other_session_and_token(app, client, factory, person):
    """Browsers signed in with the old password are signed out; access and refresh
    tokens issued before stop working."""
    other_browser = app.test_client()
    assert sign_in(other_browser, person).status_code == 303
    rp = factory.client()
    tokens = obtain_tokens(app.test_client(), rp, person)
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200

    ask_for_link(client, person.email)
    assert choose_password(client, mailed_path(app)).status_code == 303

    assert not is_signed_in(other_browser)
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 400


def test_the_changed_page_is_shown_once_after_a_change(client):
    """Opened without a change it is just the sign-in page."""
    response = client.get("/password/changed")
    assert response.status_code == 302 and response.location == "/login"


def test_reset_emails_are_limited_per_address(tmp_path):
    """The sixth reset request for one address within the hour is a 429, whichever
    client address sends it; another address is still served."""
    application = create_app(
        "testing",
        RATELIMIT_ENABLED=True,
        SIGN_IN_RATE_LIMIT="100 per minute",
        PASSWORD_RESET_ADDRESS_RATE_LIMIT="5 per hour",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'rl.db'}",
        WTF_CSRF_ENABLED=False,
    )
    with application.app_context():
        db.create_all()
    codes = [
        application.test_client()
        .post(
            "/password/forgot",
            data={"email": "Victim@example.com" if i % 2 else "victim@example.com"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        )
        .status_code
        for i in range(6)
    ]
    assert codes == [303] * 5 + [429]
    other = application.test_client().post("/password/forgot", data={"email": "x@example.com"})
    assert other.status_code == 303
    with application.app_context():
        db.engine.dispose()
