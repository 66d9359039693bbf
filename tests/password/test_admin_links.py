"""Set-password (recovery) links issued by administrators: the admin API's
POST /api/v1/users/{sub}/password-link and ``vestibule users password-link``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.accounts.authentication import authenticate
from app.accounts.service import ensure_role
from app.extensions import db
from app.models import Account, Event
from tests.helpers import csrf_token, row_counts, update_rows
from tests.password.conftest import emails

NEW = "a brand new passphrase"


def link_url(sub: str) -> str:
    return f"/api/v1/users/{sub}/password-link"


def set_password_through(app, link: str, password: str = NEW):
    """Open a link in a fresh browser and submit the new password."""
    browser = app.test_client()
    path = urlsplit(link).path
    page = browser.get(path)
    assert page.status_code == 200, page.data
    html = page.get_data(as_text=True)
    assert "Choose your password" in html
    return browser.post(path, data={"csrf_token": csrf_token(html), "password": password})


# -- API -------------------------------------------------------------------------------


def test_notify_false_returns_a_working_link_and_sends_nothing(app, client, admin_headers, person):
    """201 with the link and its expiry; no email; the link sets the password."""
    response = client.post(link_url(person.sub), headers=admin_headers, json={"notify": False})
    assert response.status_code == 201, response.json
    assert set(response.json) == {"link", "expires_at"}
    assert response.json["link"].startswith("http://localhost/password/reset/")
    assert emails(app) == []
    assert set_password_through(app, response.json["link"]).status_code == 303
    with app.app_context():
        assert authenticate(person.email, NEW) is not None


def test_notify_queues_the_set_password_email(app, client, admin_headers, person):
    """By default the link is emailed (topic set_password) to the account."""
    response = client.post(link_url(person.sub), headers=admin_headers, json={"lang": "de"})
    assert response.status_code == 201, response.json
    [(topic, recipient, link)] = emails(app)
    assert (topic, recipient, link) == ("set_password", person.email, response.json["link"])


def test_default_and_chosen_lifetimes(app, client, admin_headers, person):
    """Seven days unless expires_in says otherwise."""
    from datetime import datetime, timedelta

    def lifetime(body: dict) -> timedelta:
        response = client.post(link_url(person.sub), headers=admin_headers, json=body)
        assert response.status_code == 201, response.json
        expires = datetime.fromisoformat(response.json["expires_at"])
        return expires - datetime.now(expires.tzinfo)

    assert timedelta(days=7) - lifetime({"notify": False}) < timedelta(minutes=1)
    assert timedelta(hours=2) - lifetime({"notify": False, "expires_in": 7200}) < timedelta(
        minutes=1
    )


def test_a_new_link_ends_the_previous_one(app, client, admin_headers, person):
    """Only the newest set-password link works."""
    first = client.post(link_url(person.sub), headers=admin_headers, json={"notify": False})
    client.post(link_url(person.sub), headers=admin_headers, json={"notify": False})
    assert app.test_client().get(urlsplit(first.json["link"]).path).status_code == 410


def test_issuing_records_an_event_with_the_actor(app, client, admin_headers, person):
    """user.password_link_issued names the caller and whether the link was emailed."""
    client.post(link_url(person.sub), headers=admin_headers, json={"notify": False})
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.type == "user.password_link_issued"))
        assert event.actor.startswith("client:")
        assert event.data == {"sub": person.sub, "notify": False}


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in": 0},
        {"expires_in": -5},
        {"expires_in": 10**9},
        {"expires_in": "3600"},
        {"expires_in": 1.5},
        {"notify": "no"},
        {"lang": "x" * 17},
        {"unknown": 1},
    ],
)
def test_bad_bodies_are_refused_and_write_nothing(app, client, admin_headers, person, body):
    """Out-of-range or mistyped fields are a 422 and nothing is written."""
    before = row_counts(app)
    response = client.post(link_url(person.sub), headers=admin_headers, json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid_request"
    assert row_counts(app) == before


def test_unknown_language_is_a_400(app, client, admin_headers, person):
    """No set_password template in that language: 400, nothing written."""
    before = row_counts(app)
    response = client.post(link_url(person.sub), headers=admin_headers, json={"lang": "fr"})
    assert response.status_code == 400 and response.json["field"] == "lang"
    assert row_counts(app) == before


def test_unknown_sub_is_a_404(client, admin_headers):
    """No such account: 404 in JSON."""
    response = client.post(link_url("no-such-sub"), headers=admin_headers, json={})
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_disabled_account_or_missing_email_is_a_409(app, client, admin_headers, person, factory):
    """A disabled account gets no link; an account without email none by email."""
    update_rows(app, Account, {"sub": person.sub}, disabled=True)
    response = client.post(link_url(person.sub), headers=admin_headers, json={"notify": False})
    assert response.status_code == 409, response.json
    other = factory.account(email="noemail@example.com")
    update_rows(app, Account, {"sub": other.sub}, email=None, phone_number="+4915112345678")
    before = row_counts(app)
    assert client.post(link_url(other.sub), headers=admin_headers, json={}).status_code == 409
    assert row_counts(app) == before
    quiet = client.post(link_url(other.sub), headers=admin_headers, json={"notify": False})
    assert quiet.status_code == 201


def test_user_invite_role_may_not_issue_links(app, client, person_headers, person):
    """user_invite manages invitations, not users: 403."""
    headers = person_headers(roles=("user_invite",))
    before = row_counts(app)
    response = client.post(link_url(person.sub), headers=headers, json={"notify": False})
    assert response.status_code == 403
    assert row_counts(app) == before


def test_secondary_admin_may_not_take_over_an_admin(app, client, person_headers, person):
    """A link to an admin's account is a way into it: only someone holding every power
    the admin holds may issue it (spec §3.6)."""
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.sub == person.sub))
        account.roles = [ensure_role("admin")]
        db.session.commit()
    headers = person_headers(roles=("secondary_admin",))
    response = client.post(link_url(person.sub), headers=headers, json={"notify": False})
    assert response.status_code == 403


def test_the_operation_is_documented(client):
    """The OpenAPI document lists the operation with its scope and bounded expires_in."""
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/users/{sub}/password-link"]["post"]
    assert operation["security"] == [{"bearerAuth": ["users:write"]}]
    assert "201" in operation["responses"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert schema["properties"]["expires_in"]["minimum"] == 60


# -- CLI -------------------------------------------------------------------------------


@pytest.fixture
def cli(app):
    """``cli("users", "password-link", ...)``: run a command, return the click result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def printed_link(output: str) -> str:
    match = re.search(r"^link:\s+(\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def test_cli_prints_a_working_link(app, cli, person):
    """By email address, --no-notify: the printed link sets the password; no email."""
    result = cli("users", "password-link", "ADA@example.com", "--no-notify")
    assert result.exit_code == 0, result.output
    assert set_password_through(app, printed_link(result.output)).status_code == 303
    assert emails(app) == []
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.type == "user.password_link_issued"))
        assert event.actor == "cli"


def test_cli_by_sub_emails_the_link(app, cli, person):
    """By sub, notifying: the email is queued and the output says where it went."""
    result = cli("users", "password-link", person.sub, "--expires-in", "600")
    assert result.exit_code == 0, result.output
    assert re.search(r"^emailed_to:\s+ada@example.com$", result.output, re.MULTILINE)
    assert [link for _, _, link in emails(app, "set_password")] == [printed_link(result.output)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody@example.com"], "no account"),
        (["ada@example.com", "--expires-in", "5"], "expires_in"),
        (["ada@example.com", "--lang", "fr"], "lang"),
        (["ada\x00@example.com"], "NUL"),
    ],
)
def test_cli_refusals_write_nothing(app, cli, person, args, message):
    """Unknown account, bad lifetime, language or argument: an error, exit 1, nothing
    written."""
    before = row_counts(app)
    result = cli("users", "password-link", *args)
    assert result.exit_code == 1 and message in result.output
    assert row_counts(app) == before
