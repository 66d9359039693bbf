"""Who may open the dashboard (spec §3.6 roles, spec §7.4)."""

from __future__ import annotations

import pytest

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


def test_sign_in_returns_to_the_dashboard_page(app, client, factory):
    """/login?next= brings the person back to the page that sent them to sign in."""
    from tests.helpers import csrf_token

    person = _person(factory, "boss@example.com", ("admin",))
    login = client.get("/admin/invitations").location
    page = client.get(login)
    html = page.get_data(as_text=True)
    assert "next=/admin/invitations" in html.replace("%2F", "/")
    response = client.post(
        login,
        data={"csrf_token": csrf_token(html), "email": person.email, "password": person.password},
    )
    assert response.status_code == 303 and response.location == "/admin/invitations"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "admin",
        "/a\r\nLocation: https://evil.example",
    ],
)
def test_sign_in_never_sends_people_off_site(app, client, factory, target):
    from urllib.parse import quote

    from tests.helpers import csrf_token

    person = _person(factory, "boss@example.com", ("admin",))
    url = f"/login?next={quote(target, safe='')}"
    html = client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={"csrf_token": csrf_token(html), "email": person.email, "password": person.password},
    )
    assert response.status_code == 303 and response.location == "/account"
