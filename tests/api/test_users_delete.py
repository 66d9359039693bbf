"""Deleting an account by an administrator (issue 15, item 4): the admin API's
DELETE /api/v1/users/{sub} and the dashboard's button, within the caller's powers,
with user.deleted sent to webhooks."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.service import ensure_role, find
from app.extensions import db
from app.models import Event, OutboxItem
from app.webhooks import service as webhooks
from tests.helpers import csrf_token, obtain_tokens, refresh, row_counts, sign_in


def _exists(app, sub: str) -> bool:
    with app.app_context():
        try:
            find(sub)
        except Exception:  # noqa: BLE001 - AccountNotFound
            return False
        return True


def test_delete_removes_the_account_and_what_it_held(app, client, factory, admin_headers):
    """204; the account, its sessions and tokens are gone (its refresh token fails),
    and user.deleted is recorded and queued for a subscribed webhook."""
    with app.app_context():
        webhooks.create("https://hr.example/hooks", ["user.deleted"], "test")
    person = factory.account("ada@example.com")
    rp = factory.client(name="Shop")
    browser = app.test_client()
    tokens = obtain_tokens(browser, rp, person)

    answer = client.delete(f"/api/v1/users/{person.sub}", headers=admin_headers)
    assert answer.status_code == 204 and answer.data == b""
    assert not _exists(app, person.sub)
    assert client.get(f"/api/v1/users/{person.sub}", headers=admin_headers).status_code == 404
    assert refresh(browser, rp, tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert browser.get("/account").status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.type == "user.deleted"))
        assert event.data["sub"] == person.sub and event.actor.startswith("client:")
        item = db.session.scalar(select(OutboxItem).where(OutboxItem.kind == "webhook"))
        assert item.topic == "user.deleted"
    gone = client.delete(f"/api/v1/users/{person.sub}", headers=admin_headers)
    assert gone.status_code == 404


def test_a_person_cannot_delete_themself_through_the_api(app, client, person_headers):
    """409 (the account page does that, with the password); nothing is deleted."""
    headers = person_headers(roles=("admin",))
    me = client.get("/userinfo", headers=headers).json["sub"]
    counts = row_counts(app)
    answer = client.delete(f"/api/v1/users/{me}", headers=headers)
    assert answer.status_code == 409 and "account page" in answer.json["error_description"]
    assert row_counts(app) == counts


def test_a_secondary_admin_cannot_delete_an_admin(app, client, factory, person_headers):
    """Deleting acts on the account's roles: beyond the caller's powers is 403."""
    with app.app_context():
        ensure_role("admin")
        db.session.commit()
    boss = factory.account("top@example.com", roles=("admin",))
    headers = person_headers(roles=("secondary_admin",))
    counts = row_counts(app)
    answer = client.delete(f"/api/v1/users/{boss.sub}", headers=headers)
    assert answer.status_code == 403 and answer.json["error"] == "insufficient_role"
    assert row_counts(app) == counts


def test_the_dashboard_deletes_after_a_confirmation(app, factory):
    """The person's page links to a confirmation; its POST deletes and returns to the
    list, saying so; the admin's own page has no such button."""
    admin = factory.account("root@example.com", roles=("admin",))
    person = factory.account("ada@example.com")
    browser = app.test_client()
    sign_in(browser, admin)
    detail = browser.get(f"/admin/users/{person.sub}").get_data(as_text=True)
    assert f"/admin/users/{person.sub}/delete" in detail
    own = browser.get(f"/admin/users/{admin.sub}").get_data(as_text=True)
    assert f"/admin/users/{admin.sub}/delete" not in own
    page = browser.get(f"/admin/users/{person.sub}/delete")
    assert page.status_code == 200 and "cannot be undone" in page.get_data(as_text=True)
    assert _exists(app, person.sub)
    token = csrf_token(page.get_data(as_text=True))
    answer = browser.post(
        f"/admin/users/{person.sub}/delete", data={"csrf_token": token, "confirm": "1"}
    )
    assert answer.status_code == 303 and answer.location == "/admin/users"
    assert "ada@example.com is deleted." in browser.get("/admin/users").get_data(as_text=True)
    assert not _exists(app, person.sub)
