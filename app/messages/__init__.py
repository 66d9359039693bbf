"""Messages (spec §5): templates, email and SMS backends, and their outbox senders.

For other packages:

- ``render(key, lang, variables) -> Rendered(subject, text, html, sms)``
- ``queue_email(to, key, lang, variables, invitation_id=None)`` and
  ``queue_sms(...)``: render and enqueue in the caller's transaction (not committed)
- ``format_datetime(moment, lang)``: a date written for the message's language

A new message key with variables other than the invitation's is declared in
``rendering.VARIABLES`` so the start-up check knows what its templates may use.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from app.messages import invitations, mail, sms
from app.messages.rendering import Rendered, format_datetime, init_templates, render
from app.messages.service import queue_email, queue_sms
from app.models import OutboxItem
from app.outbox.senders import Outcome, register_sender
from config import ConfigurationError

__all__ = ["Rendered", "format_datetime", "init_messages", "queue_email", "queue_sms", "render"]


def init_messages(app: Flask) -> None:
    """Check the message settings and templates, and register the email and SMS senders."""
    check_settings(app.config)
    init_templates(app)
    register_sender(
        "email", deliver_email, after_sent=invitations.mark_sent, closer=mail.close_connection
    )
    register_sender("sms", deliver_sms, after_sent=invitations.mark_sent)


def deliver_email(item: OutboxItem, payload: dict) -> Outcome:
    """The outbox sender for ``email`` items."""
    return invitations.refusal(item, payload) or mail.send_email(item, payload)


def deliver_sms(item: OutboxItem, payload: dict) -> Outcome:
    """The outbox sender for ``sms`` items."""
    return invitations.refusal(item, payload) or sms.send_sms(item, payload)


def check_settings(config) -> None:
    """Raise ConfigurationError for a MAIL_* or SMS_* setting the backends cannot use.

    Checked in every environment: ``MAIL_BACKEND=smtp`` (the default outside
    development and tests) needs MAIL_SERVER, ``SMS_BACKEND=http`` needs SMS_HTTP_URL.
    """
    _one_of(config, "MAIL_BACKEND", ("smtp", "console"))
    _one_of(config, "SMS_BACKEND", ("http", "console", "off"))
    if config["MAIL_BACKEND"] == "smtp":
        _check_smtp(config)
    if config["SMS_BACKEND"] == "http":
        _check_sms_http(config)


def _one_of(config, name: str, choices: tuple[str, ...]) -> None:
    if config[name] not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}")


def _check_smtp(config) -> None:
    if not config["MAIL_SERVER"]:
        raise ConfigurationError(
            "MAIL_BACKEND is smtp but MAIL_SERVER is not set: set MAIL_SERVER (and "
            "MAIL_PORT, MAIL_SECURITY, MAIL_USERNAME, MAIL_PASSWORD), or MAIL_BACKEND=console"
        )
    _one_of(config, "MAIL_SECURITY", mail.SECURITY)
    if not 0 < config["MAIL_PORT"] < 65536:
        raise ConfigurationError("MAIL_PORT must be a TCP port (1-65535)")
    if "@" not in mail.envelope_sender(config["MAIL_FROM"]):
        raise ConfigurationError("MAIL_FROM must hold an address, e.g. 'Acme <no-reply@acme.test>'")
    if config["MAIL_USERNAME"] and not config["MAIL_PASSWORD"]:
        raise ConfigurationError("MAIL_USERNAME is set but MAIL_PASSWORD is not")


def _check_sms_http(config) -> None:
    url = config["SMS_HTTP_URL"] or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("SMS_BACKEND is http but SMS_HTTP_URL is not an http(s) URL")
    try:
        sms.auth_header(config["SMS_HTTP_AUTH_HEADER"])
    except ValueError as exc:
        raise ConfigurationError(f"SMS_HTTP_AUTH_HEADER: {exc}") from None
