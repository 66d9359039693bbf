"""Admin API and dashboard: a person's sign-in factors (issue 16), shown and reset, each
reset an event delivered to webhooks; and the way back in for a person who lost every
factor (a reset, then the set-password link, then setting up again)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app.accounts import totp
from app.accounts.service import find
from app.events import WEBHOOK_EVENT_TYPES
from app.extensions import db
from app.models import Event
from app.models.factors import Passkey
from tests.helpers import csrf_token, sign_in
from tests.mfa import code_for, enrol, post_code, shown_secret

USERS = "/api/v1/users"


def _add_passkey(app, sub: str, name: str) -> None:
    with app.app_context():
        account = find(sub)
        db.session.add(
            Passkey(
                account_id=account.id,
                credential_id=f"cred-{name}",
                public_key=b"key",
                sign_count=0,
                transports=["internal"],
                backup_eligible=True,
                name=name,
            )
        )
        db.session.commit()


def _events(app, kind: str) -> list[dict]:
    with app.app_context():
        return [e.data for e in db.session.scalars(select(Event).where(Event.type == kind))]


def test_factor_changes_are_webhook_events():
    """Setting up and removing factors can be subscribed to."""
    assert {
        "user.mfa_enrolled",
        "user.mfa_removed",
        "user.passkey_added",
        "user.passkey_removed",
    } <= set(WEBHOOK_EVENT_TYPES)


def test_an_account_without_factors(client, factory, admin_headers):
    """No authenticator, no recovery codes, no passkeys."""
    person = factory.account()
    answer = client.get(f"{USERS}/{person.sub}/factors", headers=admin_headers)
    assert answer.status_code == 200
    assert answer.json == {"totp": False, "recovery_codes_left": 0, "passkeys": []}


def test_factors_are_shown_and_reset(app, client, factory, admin_headers):
    """The authenticator with its codes left and the passkeys by name; each reset
    removes them with an event naming the account."""
    person = factory.account()
    enrol(app, person.sub)
    _add_passkey(app, person.sub, "Laptop")
    shown = client.get(f"{USERS}/{person.sub}/factors", headers=admin_headers).json
    assert shown["totp"] is True and shown["recovery_codes_left"] == 10
    assert [(p["name"], p["synced"]) for p in shown["passkeys"]] == [("Laptop", True)]
    assert (
        client.delete(f"{USERS}/{person.sub}/factors/totp", headers=admin_headers).status_code
        == 204
    )
    assert (
        client.delete(f"{USERS}/{person.sub}/factors/totp", headers=admin_headers).status_code
        == 404
    )
    gone = client.delete(f"{USERS}/{person.sub}/factors/passkeys", headers=admin_headers)
    assert gone.status_code == 204
    shown = client.get(f"{USERS}/{person.sub}/factors", headers=admin_headers).json
    assert shown == {"totp": False, "recovery_codes_left": 0, "passkeys": []}
    assert _events(app, "user.mfa_removed") == [{"sub": person.sub, "method": "totp"}]
    assert _events(app, "user.passkey_removed") == [{"sub": person.sub, "name": "Laptop"}]


def test_reading_needs_users_read_and_resetting_users_write(client, factory, machine_headers):
    """A token with users:read sees the factors but cannot reset them."""
    person = factory.account()
    reader = machine_headers("users:read")
    assert client.get(f"{USERS}/{person.sub}/factors", headers=reader).status_code == 200
    assert client.delete(f"{USERS}/{person.sub}/factors/totp", headers=reader).status_code == 403


def test_an_administrators_factors_need_the_power_to_act_on_admins(
    app, client, factory, machine_headers
):
    """Without roles:grant a machine cannot reset an administrator's factors."""
    admin = factory.account("boss@example.com", roles=["admin"])
    enrol(app, admin.sub)
    headers = machine_headers("users:read users:write")
    answer = client.delete(f"{USERS}/{admin.sub}/factors/totp", headers=headers)
    assert answer.status_code == 403
    with app.app_context():
        assert totp.authenticator(find(admin.sub)) is not None


def test_the_openapi_document_describes_the_factors(client):
    """The three operations are in the spec."""
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/users/{sub}/factors"]
    assert "delete" in paths["/api/v1/users/{sub}/factors/totp"]
    assert "delete" in paths["/api/v1/users/{sub}/factors/passkeys"]


# -- the dashboard ---------------------------------------------------------------------


@pytest.fixture
def admin_browser(client, factory):
    """A browser signed in to the dashboard as an administrator."""
    boss = factory.account("boss@example.com", roles=["admin"])
    assert sign_in(client, boss).status_code == 303
    return client


def test_the_user_page_shows_and_resets_the_factors(app, admin_browser, factory):
    """The page lists the factors; each reset is confirmed first (with its CSRF token)."""
    person = factory.account()
    enrol(app, person.sub)
    _add_passkey(app, person.sub, "Phone")
    page = admin_browser.get(f"/admin/users/{person.sub}").get_data(as_text=True)
    assert "Sign-in methods" in page and "10 recovery codes left" in page and "Phone" in page
    for action in ("reset-two-step", "reset-passkeys"):
        path = f"/admin/users/{person.sub}/{action}"
        confirm = admin_browser.get(path)
        assert confirm.status_code == 200
        assert admin_browser.post(path, data={"confirm": "1"}).status_code == 400  # no token
        token = csrf_token(confirm.get_data(as_text=True))
        done = admin_browser.post(path, data={"csrf_token": token, "confirm": "1"})
        assert done.status_code == 303
    page = admin_browser.get(f"/admin/users/{person.sub}").get_data(as_text=True)
    assert "Reset two-step sign-in" not in page and "Remove all passkeys" not in page
    assert len(_events(app, "user.passkey_removed")) == 1


# -- the way back in -------------------------------------------------------------------


def test_a_person_who_lost_every_factor_gets_back_in(
    app, client, factory, admin_headers, monkeypatch
):
    """An administrator who lost phone, recovery codes and password: the factors are
    reset, a set-password link issued; the link sets a password, the sign-in leads
    through setting up a new authenticator, and the dashboard opens."""
    monkeypatch.setitem(app.config, "MFA_FOR_ADMIN_ROLES", True)
    admin = factory.account("boss@example.com", roles=["admin"])
    enrol(app, admin.sub)
    assert (
        client.delete(f"{USERS}/{admin.sub}/factors/totp", headers=admin_headers).status_code == 204
    )
    issued = client.post(
        f"{USERS}/{admin.sub}/password-link", headers=admin_headers, json={"notify": False}
    )
    path = re.sub(r"^https?://[^/]+", "", issued.json["link"])
    form = client.get(path)
    new_password = "a brand new passphrase"
    token = csrf_token(form.get_data(as_text=True))
    assert (
        client.post(path, data={"csrf_token": token, "password": new_password}).status_code == 303
    )
    admin.password = new_password
    answer = sign_in(client, admin)
    assert answer.location.startswith("/login/second-factor")
    page = client.get(answer.location)
    secret = shown_secret(page.get_data(as_text=True))
    assert post_code(client, page, code_for(secret)).status_code == 200  # recovery codes
    assert client.get("/admin/users").status_code == 200


def test_factor_changes_reach_subscribed_webhooks(app, factory):
    """Setting up and removing an authenticator each queue a delivery to an endpoint
    subscribed to them, carrying the account's sub."""
    from app.models import OutboxItem
    from app.outbox.queue import payload_of
    from app.webhooks import service

    with app.app_context():
        service.create("https://hr.example/hooks", ["user.mfa_enrolled", "user.mfa_removed"], "t")
    person = factory.account()
    enrol(app, person.sub)
    with app.app_context():
        totp.remove(find(person.sub), "test")
        items = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "webhook"))
        bodies = [json.loads(payload_of(item)["body"]) for item in items]
    assert [b["type"] for b in bodies] == ["user.mfa_enrolled", "user.mfa_removed"]
    assert all(b["data"]["sub"] == person.sub for b in bodies)


@pytest.mark.parametrize("factor", ["totp", "passkeys"])
def test_a_reset_signs_the_person_out_of_every_browser(app, client, factory, admin_headers, factor):
    """A lost phone or key may sit beside a signed-in browser: after the reset that
    browser is sent to sign in again; another person's browser stays signed in."""
    person, other = factory.account(), factory.account("other@example.com")
    browsers = {person.sub: app.test_client(), other.sub: app.test_client()}
    for account in (person, other):
        assert sign_in(browsers[account.sub], account).status_code == 303
        assert browsers[account.sub].get("/account").status_code == 200
    if factor == "totp":
        enrol(app, person.sub)
    else:
        _add_passkey(app, person.sub, "Phone")
    answer = client.delete(f"{USERS}/{person.sub}/factors/{factor}", headers=admin_headers)
    assert answer.status_code == 204
    assert browsers[person.sub].get("/account").status_code in (302, 303)
    assert browsers[other.sub].get("/account").status_code == 200


def test_a_reset_of_nothing_signs_nobody_out(app, client, factory, admin_headers):
    """No passkey to remove: the person's browser stays signed in."""
    person = factory.account()
    browser = app.test_client()
    assert sign_in(browser, person).status_code == 303
    answer = client.delete(f"{USERS}/{person.sub}/factors/passkeys", headers=admin_headers)
    assert answer.status_code == 204
    assert browser.get("/account").status_code == 200
