"""The password emails' templates: shipped in English and German, and not usable as
invitation templates (app/invitations/catalog.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, meta

from app.invitations import catalog
from app.messages import render

#: What app/accounts/password_links.py passes each template, and nothing more.
VARIABLES = {
    "reset_password": {"name", "reset_link", "expires_at", "account_name"},
    "set_password": {"name", "set_link", "expires_at", "account_name"},
}


@pytest.mark.parametrize("key", sorted(VARIABLES))
@pytest.mark.parametrize("lang", ["en", "de"])
def test_password_templates_render_with_exactly_the_variables_passed(app, key, lang):
    """Subject, text and HTML exist in English and German, use only the variables the
    service passes, and render with them (StrictUndefined); the HTML is escaped."""
    folder = Path(app.config["MESSAGE_TEMPLATES_DIR"]) / key / lang
    env = Environment()
    for name in ("subject.txt", "body.txt", "body.html"):
        used = meta.find_undeclared_variables(env.parse((folder / name).read_text()))
        assert used <= VARIABLES[key], (name, used - VARIABLES[key])
    values = {name: f"<{name}>" for name in VARIABLES[key]}
    with app.app_context():
        rendered = render(key, lang, values)
        assert key not in catalog.template_keys() and key in catalog.message_keys()
    link = values["reset_link" if key == "reset_password" else "set_link"]
    assert rendered.subject and link in rendered.text
    assert "&lt;" in rendered.html and "<name>" not in rendered.html


def test_only_templates_carrying_an_invitation_link_are_invitation_templates(
    app, tmp_path, monkeypatch
):
    """An operator's template that uses invite_link qualifies; one that does not, not."""
    for key, body in (("welcome", "Join: {{ invite_link }}"), ("newsletter", "Hello {{ name }}")):
        (tmp_path / key / "en").mkdir(parents=True)
        (tmp_path / key / "en" / "body.txt").write_text(body)
    (tmp_path / "no_language").mkdir()
    monkeypatch.setattr(catalog, "_root", lambda: tmp_path)
    with app.app_context():
        assert catalog.template_keys() == {"welcome"}
        assert catalog.message_keys() == {"welcome", "newsletter"}


def test_an_invitation_cannot_use_a_password_template(client, admin_headers, invite_client):
    """template_key reset_password is refused like any unknown key (400)."""
    response = client.post(
        "/api/v1/invitations",
        headers=admin_headers,
        json={
            "email": "grace@example.com",
            "client_id": invite_client.client_id,
            "template_key": "reset_password",
            "notify": False,
        },
    )
    assert response.status_code == 400, response.json
    assert response.json["field"] == "template_key"
