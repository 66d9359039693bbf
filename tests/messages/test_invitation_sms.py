"""Invitation SMS (spec §5): an invitation with only a mobile number goes to the HTTP
provider as JSON with the configured auth header, retried until it is accepted."""

from __future__ import annotations

import pytest

from tests.messages.conftest import make_due, outbox, run_worker


def test_sms_only_invitation_reaches_the_provider_on_the_second_try(app, sms_provider, invite):
    """500 then 200: delivered on the second attempt, with the same id both times."""
    sms_provider.answers = [500]
    created = invite(mobile_number="+4915112345678", lang="de")
    [item] = outbox(app)
    assert (item.kind, item.recipient) == ("sms", "+4915112345678")

    assert run_worker(app) == 1
    [item] = outbox(app)
    assert item.state == "pending" and "500" in item.last_error and item.next_attempt_in > 0

    make_due(app)
    assert run_worker(app) == 1
    assert outbox(app)[0].state == "sent"

    first, second = sms_provider.requests
    assert first.body == second.body
    assert set(second.body) == {"to", "from", "text", "id"}
    assert second.body["to"] == "+4915112345678"
    assert second.body["from"] == "Vestibule"
    assert second.body["id"] == item.public_id
    assert created["short_link"] in second.body["text"]
    assert "eingeladen" in second.body["text"]
    assert second.headers["Authorization"] == "Bearer sms-token"
    assert second.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("status", "state"), [(400, "dead"), (401, "dead"), (429, "pending")])
def test_provider_refusals(app, sms_provider, invite, status, state):
    """A 4xx is final, except 408 and 429 which mean "later"."""
    sms_provider.answers = [status]
    invite(mobile_number="+4915112345678")
    run_worker(app)
    [item] = outbox(app)
    assert item.state == state
    assert str(status) in item.last_error


def test_unreachable_provider_is_retried(app, sms_provider, invite, monkeypatch):
    """Nothing listening at SMS_HTTP_URL: the SMS waits for a retry."""
    sms_provider.stop()
    invite(mobile_number="+4915112345678")
    run_worker(app)
    [item] = outbox(app)
    assert item.state == "pending" and item.last_error


def test_proxy_settings_in_the_environment_are_ignored(app, sms_provider, invite, monkeypatch):
    """http_proxy pointing nowhere does not reroute the provider request."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    invite(mobile_number="+4915112345678")
    run_worker(app)
    assert outbox(app)[0].state == "sent"
    assert len(sms_provider.requests) == 1


def test_invitation_with_email_and_mobile_goes_by_email(app, sms_provider, invite):
    """Email wins when the invitation has both."""
    invite(email="ada@example.com", mobile_number="+4915112345678")
    assert [item.kind for item in outbox(app)] == ["email"]


def test_console_sms_backend_prints(app, invite, capsys):
    """SMS_BACKEND=console prints the text and counts as sent."""
    created = invite(mobile_number="+4915112345678", lang="en")
    run_worker(app)
    printed = capsys.readouterr().out
    assert "To: +4915112345678" in printed and created["short_link"] in printed
    assert outbox(app)[0].state == "sent"


def test_sms_off_fails_at_once_and_prints_nothing(app, invite, monkeypatch, capsys):
    """SMS_BACKEND=off (production's default): the SMS is dead after one try, with a
    clear reason, and its link is neither sent nor printed."""
    monkeypatch.setitem(app.config, "SMS_BACKEND", "off")
    created = invite(mobile_number="+4915112345678")
    assert run_worker(app) == 1
    [item] = outbox(app)
    assert item.state == "dead" and "SMS_BACKEND=off" in item.last_error
    assert created["short_link"] not in capsys.readouterr().out
