"""Who may open the dashboard (spec §3.6 roles, spec §7.4)."""

from __future__ import annotations

from tests.helpers import AccountInfo, sign_in


def _person(factory, email: str, roles: tuple[str, ...]) -> AccountInfo:
    return factory.account(email, roles=roles)


def test_signed_out_goes_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_a_person_without_a_role_gets_a_clear_403(app, client, factory):
    sign_in(client, _person(factory, "nobody@example.com", ()))
    response = client.get("/admin/")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "You cannot open this page" in text and "nobody@example.com" in text
