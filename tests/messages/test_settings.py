"""MAIL_* and SMS_* settings are checked when the app starts."""

from __future__ import annotations

import pytest

from app import create_app
from config import ConfigurationError, ProductionConfig

PRODUCTION = {
    "SECRET_KEY": "s" * 32,
    "ISSUER": "https://id.example",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
}


def test_production_smtp_needs_a_server():
    """Production sends by SMTP by default and refuses to start without MAIL_SERVER."""
    prod = type("Prod", (ProductionConfig,), {**PRODUCTION, "MAIL_SERVER": None})
    with pytest.raises(ConfigurationError, match="MAIL_SERVER"):
        create_app(prod)
    app = create_app(prod, MAIL_SERVER="smtp.example.com")
    assert app.config["MAIL_BACKEND"] == "smtp"
    assert app.config["MAIL_PORT"] == 587 and app.config["MAIL_SECURITY"] == "starttls"


def test_console_backend_needs_no_server_but_production_refuses_it():
    """MAIL_BACKEND=console starts without a server in development (its default);
    production refuses it, as it would print invitation links into the logs."""
    assert create_app("development", MAIL_BACKEND="console", MAIL_SERVER=None)
    prod = type("Prod", (ProductionConfig,), PRODUCTION)
    with pytest.raises(ConfigurationError, match="MAIL_BACKEND=console"):
        create_app(prod, MAIL_BACKEND="console", MAIL_SERVER=None)


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"MAIL_BACKEND": "sendmail"}, "MAIL_BACKEND must be one of smtp, console"),
        ({"MAIL_BACKEND": "smtp"}, "MAIL_SERVER is not set"),
        ({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "mx", "MAIL_SECURITY": "ssl"}, "MAIL_SECURITY"),
        ({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "mx", "MAIL_PORT": 0}, "MAIL_PORT"),
        ({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "mx", "MAIL_FROM": "Vestibule"}, "MAIL_FROM"),
        ({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "mx", "MAIL_USERNAME": "u"}, "MAIL_PASSWORD"),
        ({"SMS_BACKEND": "twilio"}, "SMS_BACKEND must be one of http, console, off"),
        ({"SMS_BACKEND": "http"}, "SMS_HTTP_URL"),
        ({"SMS_BACKEND": "http", "SMS_HTTP_URL": "file:///etc/passwd"}, "SMS_HTTP_URL"),
        (
            {"SMS_BACKEND": "http", "SMS_HTTP_URL": "https://t.test", "SMS_HTTP_AUTH_HEADER": "x"},
            "SMS_HTTP_AUTH_HEADER",
        ),
    ],
)
def test_unusable_settings_stop_start_up(overrides, complaint):
    """Each unusable setting is named in the error."""
    with pytest.raises(ConfigurationError, match=complaint):
        create_app("testing", **overrides)


def test_usable_sms_settings_start():
    """An https provider URL with a 'Name: value' header is accepted."""
    app = create_app(
        "testing",
        SMS_BACKEND="http",
        SMS_HTTP_URL="https://sms.example/send",
        SMS_HTTP_AUTH_HEADER="Authorization: Bearer xyz",
    )
    assert app.config["SMS_BACKEND"] == "http"
