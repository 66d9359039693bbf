"""Admin API: a client's second-factor policy ``mfa`` (issue 16)."""

from __future__ import annotations

CLIENTS = "/api/v1/clients"


def test_mfa_defaults_to_off_and_can_be_set(client, admin_headers):
    """Created off unless given; PATCH changes it; anything else is a 422 or 400."""
    body = {"name": "Shop", "redirect_uris": ["https://shop.example/cb"]}
    created = client.post(CLIENTS, headers=admin_headers, json=body)
    assert created.status_code == 201, created.json
    assert created.json["mfa"] == "off"
    client_id = created.json["client_id"]
    changed = client.patch(
        f"{CLIENTS}/{client_id}", headers=admin_headers, json={"mfa": "required"}
    )
    assert changed.status_code == 200 and changed.json["mfa"] == "required"
    wrong = client.patch(f"{CLIENTS}/{client_id}", headers=admin_headers, json={"mfa": "always"})
    assert wrong.status_code in (400, 422)
    strict = client.post(CLIENTS, headers=admin_headers, json={**body, "mfa": "optional"})
    assert strict.json["mfa"] == "optional"


def test_the_dashboard_client_form_sets_mfa(app, client, factory):
    """The edit form shows the setting and saves it; a form without it keeps it."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Client
    from tests.helpers import csrf_token, sign_in

    rp = factory.client(name="Shop", mfa="optional")
    sign_in(client, factory.account("boss@example.com", roles=["admin"]))
    path = f"/admin/clients/{rp.client_id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert '<option value="optional" selected>' in page
    fields = {
        "csrf_token": csrf_token(page),
        "name": "Shop",
        "redirect_uris": rp.redirect_uri,
        "scope": ["openid"],
        "require_pkce": "y",
    }
    assert client.post(path, data={**fields, "mfa": "required"}).status_code == 303
    assert client.post(path, data=fields).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Client.mfa).where(Client.client_id == rp.client_id)) == (
            "required"
        )
