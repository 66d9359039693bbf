"""Email verification links (issue 10, item 7): app/accounts/verification.py and the page
/verify/email/<token>. Opening a link only shows a button (mail scanners open links);
the form's POST, with its CSRF token, marks the address verified, once."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.accounts import password_links, verification
from app.accounts.authentication import authenticate
from app.accounts.service import find
from app.extensions import db
from app.models import Event, OutboxItem, PasswordToken, utcnow
from app.outbox.queue import payload_of
from tests.helpers import PASSWORD, csrf_token, row_counts, update_rows

LINK = re.compile(r"http://localhost/verify/email/[A-Za-z0-9_-]+")


@pytest.fixture
def unverified(app, factory):
    """An account whose email is not verified yet."""
    person = factory.account("ada@example.com")
    with app.app_context():
        find(person.sub).email_verified = False
        db.session.commit()
    return person


def send_link(app, sub: str, lang: str = "en") -> str:
    """Queue a verification email for the account; the path of the link in it."""
    with app.app_context():
        verification.send_link(find(sub), lang, "test")
        db.session.commit()
        item = db.session.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first()
        return urlsplit(LINK.search(payload_of(item)["text"]).group(0)).path


def is_verified(app, sub: str) -> bool:
    with app.app_context():
        return find(sub).email_verified


def confirm(browser, path: str):
    """Open the link's page and press its button."""
    page = browser.get(path)
    assert page.status_code == 200, page.data
    return browser.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def test_the_email_carries_a_single_use_link_stored_as_a_hash(app, unverified):
    """The message goes to the account's address in its language; only the token's
    hash is stored, with purpose verify_email and an expiry."""
    path = send_link(app, unverified.sub, "de")
    token = path.rsplit("/", 1)[-1]
    with app.app_context():
        item = db.session.scalar(select(OutboxItem).where(OutboxItem.topic == "verify_email"))
        assert item.recipient == "ada@example.com"
        assert "E-Mail-Adresse" in payload_of(item)["subject"]
        row = db.session.scalar(select(PasswordToken))
        assert row.purpose == "verify_email" and token not in row.token_hash
        assert row.expires_at > utcnow() + timedelta(hours=23)


def test_opening_the_link_changes_nothing(app, client, unverified):
    """GET shows a confirm button and its form; opened twice, nothing is written."""
    path = send_link(app, unverified.sub)
    before = row_counts(app)
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'method="post"' in html and "csrf_token" in html
        assert "ada@example.com" in html
    assert row_counts(app) == before and not is_verified(app, unverified.sub)


def test_pressing_the_button_verifies_the_email_once(app, client, unverified):
    """POST marks the email verified and records user.email_verified; the link then
    no longer works."""
    path = send_link(app, unverified.sub)
    response = confirm(client, path)
    assert response.status_code == 200, response.data
    assert "ada@example.com is now a confirmed address" in response.get_data(as_text=True)
    assert is_verified(app, unverified.sub)
    with app.app_context():
        assert db.session.scalar(select(Event).where(Event.type == "user.email_verified"))
    assert client.get(path).status_code == 410
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 410


def test_a_post_without_the_csrf_token_is_refused(app, client, unverified):
    """No (or a wrong) CSRF token: 400, not verified, the link still works."""
    path = send_link(app, unverified.sub)
    before = row_counts(app)
    for data in ({}, {"csrf_token": "forged"}):
        assert client.post(path, data=data).status_code == 400
    assert row_counts(app) == before and not is_verified(app, unverified.sub)
    assert confirm(client, path).status_code == 200


def test_unknown_expired_or_disabled_links_explain_themselves(app, client, unverified):
    """An unknown token, an expired link or a disabled account: 410 page, nothing written."""
    assert client.get("/verify/email/nope").status_code == 410
    path = send_link(app, unverified.sub)
    update_rows(app, PasswordToken, {}, expires_at=utcnow() - timedelta(seconds=1))
    assert client.get(path).status_code == 410
    assert "expired or was already used" in client.get(path).get_data(as_text=True)
    fresh = send_link(app, unverified.sub)
    with app.app_context():
        find(unverified.sub).disabled = True
        db.session.commit()
    assert client.get(fresh).status_code == 410
    assert not is_verified(app, unverified.sub)


def test_a_verification_link_is_not_a_password_link(app, client, unverified):
    """Its token opens no set-password form and sets no password; a reset token does
    not verify."""
    token = send_link(app, unverified.sub).rsplit("/", 1)[-1]
    with app.app_context():
        assert password_links.find_usable(token) is None
        with pytest.raises(password_links.LinkUnusable):
            password_links.use(token, "a brand new passphrase")
    assert client.get(f"/password/reset/{token}").status_code == 410
    with app.app_context():
        _, link = password_links.issue(find(unverified.sub), password_links.RESET, 3600, "test")
        db.session.commit()
        assert verification.find_usable(link.rsplit("/", 1)[-1]) is None
    assert not is_verified(app, unverified.sub)
    with app.app_context():
        assert authenticate(unverified.email, PASSWORD) is not None


def test_a_new_link_ends_the_earlier_one(app, client, unverified):
    """Sending a second link supersedes the first."""
    first = send_link(app, unverified.sub)
    second = send_link(app, unverified.sub)
    assert client.get(first).status_code == 410
    assert confirm(client, second).status_code == 200


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_message_ships_in_english_and_german(app, lang):
    """verify_email renders in both languages with exactly the variables the service
    passes, escapes its HTML, and cannot be named as an invitation template."""
    from app.invitations import catalog
    from app.messages import render

    values = {name: f"<{name}>" for name in ("name", "verify_link", "expires_at", "account_name")}
    with app.app_context():
        rendered = render("verify_email", lang, values)
        assert "verify_email" in catalog.message_keys()
        assert "verify_email" not in catalog.template_keys()
    assert rendered.subject and "<verify_link>" in rendered.text
    assert "&lt;verify_link&gt;" in rendered.html and "<name>" not in rendered.html
