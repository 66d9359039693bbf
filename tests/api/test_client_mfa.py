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
