"""``vestibule webhooks``: create, list, disable, enable, deliveries, replay, delete."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxItem, WebhookEndpoint
from tests.helpers import invite, update_rows


def _run(app, *args: str):
    return app.test_cli_runner().invoke(args=["webhooks", *args])


def test_create_prints_the_secret_once(app):
    """create prints the id and a whsec_ secret; list shows the endpoint, never the secret."""
    result = _run(
        app,
        "create",
        "--url",
        "https://hr.example/hooks",
        "--event",
        "invitation.created",
        "--event",
        "user.created",
        "--description",
        "HR",
    )
    assert result.exit_code == 0, result.output
    secret = re.search(r"secret: (whsec_\S+)", result.output).group(1)
    endpoint_id = re.search(r"id: +(\S+)", result.output).group(1)
    listing = _run(app, "list")
    assert endpoint_id in listing.output
    assert "invitation.created,user.created" in listing.output and "enabled" in listing.output
    assert secret not in listing.output
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        assert endpoint.created_by == "cli" and secret not in endpoint.secret_sealed


def test_create_refuses_bad_input(app):
    """An ftp URL or an unknown event type: a clear error, nothing stored."""
    bad_url = _run(app, "create", "--url", "ftp://hr.example/", "--event", "user.created")
    assert bad_url.exit_code != 0 and "http" in bad_url.output
    bad_type = _run(app, "create", "--url", "https://hr.example/", "--event", "user.eaten")
    assert bad_type.exit_code != 0 and "user.eaten" in bad_type.output
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint)) is None


def test_disable_enable_deliveries_replay_delete(app, factory, closed_port_url, run_worker):
    """The operator's round: a failing endpoint's deliveries show their attempts; a dead
    one is replayed; disable and enable switch it; delete removes it and its deliveries."""
    result = _run(app, "create", "--url", closed_port_url, "--event", "invitation.created")
    endpoint_id = re.search(r"id: +(\S+)", result.output).group(1)
    factory.client(client_id="shop", initiate_login_uri="https://rp.example.com/login")
    invite(app, email="ada@example.com", client_id="shop", notify=False)
    run_worker()
    update_rows(app, OutboxItem, {"kind": "webhook"}, state="dead")

    deliveries = _run(app, "deliveries", endpoint_id)
    assert deliveries.exit_code == 0, deliveries.output
    assert "invitation.created\tdead" in deliveries.output
    assert "#1" in deliveries.output and "refused" in deliveries.output.lower()
    delivery_id = deliveries.output.split("\t", 1)[0]

    assert "disabled" in _run(app, "disable", endpoint_id).output
    assert "disabled" in _run(app, "list").output
    refused = _run(app, "replay", delivery_id)
    assert refused.exit_code != 0 and "disabled" in refused.output
    assert _run(app, "enable", endpoint_id).exit_code == 0
    replayed = _run(app, "replay", delivery_id)
    assert replayed.exit_code == 0 and "pending" in replayed.output

    assert _run(app, "delete", endpoint_id).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(OutboxItem)) is None
    missing = _run(app, "deliveries", endpoint_id)
    assert missing.exit_code != 0 and "no webhook endpoint" in missing.output


def test_list_has_a_header(app):
    """`webhooks list` names its columns above the endpoints, aligned."""
    _run(app, "create", "--url", "https://hr.example/hooks", "--event", "user.created")
    lines = _run(app, "list").output.splitlines()
    assert lines[0].split() == ["id", "state", "url", "events", "description"]
    assert lines[1].split()[1:4] == ["enabled", "https://hr.example/hooks", "user.created"]
    assert lines[0].index("url") == lines[1].index("https://")
