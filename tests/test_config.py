"""Configuration: production refuses to start without its secrets."""

from __future__ import annotations

import pytest

from app import create_app
from config import ConfigurationError, ProductionConfig


def _production(**attrs):
    return type("Prod", (ProductionConfig,), attrs)


def test_production_requires_secret_key_and_issuer():
    """Without SECRET_KEY or ISSUER, production does not start."""
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(
            _production(
                SECRET_KEY=None, ISSUER="https://id.example", SQLALCHEMY_DATABASE_URI="sqlite://"
            )
        )
    with pytest.raises(ConfigurationError, match="ISSUER"):
        create_app(
            _production(SECRET_KEY="s" * 32, ISSUER=None, SQLALCHEMY_DATABASE_URI="sqlite://")
        )


def test_production_requires_https_issuer():
    """A plain-http issuer is refused in production."""
    with pytest.raises(ConfigurationError, match="https"):
        create_app(
            _production(
                SECRET_KEY="s" * 32, ISSUER="http://id.example", SQLALCHEMY_DATABASE_URI="sqlite://"
            )
        )


def test_production_cookies_are_secure():
    """Production session cookies are Secure, HttpOnly and SameSite=Lax."""
    app = create_app(
        _production(
            SECRET_KEY="s" * 32,
            ISSUER="https://id.example",
            SQLALCHEMY_DATABASE_URI="sqlite://",
            MAIL_SERVER="smtp.example.com",
        )
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


PRODUCTION = {
    "SECRET_KEY": "s" * 32,
    "ISSUER": "https://id.example",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "MAIL_SERVER": "smtp.example.com",
}


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"SMS_BACKEND": "console"}, "SMS_BACKEND=console"),
        ({"MAIL_BACKEND": "console"}, "MAIL_BACKEND=console"),
        ({"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True}, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-only-not-secret"}, "SECRET_KEY"),
        ({"AUTHLIB_INSECURE_TRANSPORT": True}, "plain http"),
        ({"SESSION_COOKIE_SECURE": False}, "plain http"),
    ],
)
def test_production_refuses_development_only_settings(overrides, complaint):
    """Production does not start with a setting that only suits development."""
    with pytest.raises(ConfigurationError, match=complaint):
        create_app(_production(**PRODUCTION), **overrides)


def test_production_defaults_start_with_sms_off_and_no_trusted_proxy():
    """Out of the box production has SMS off (not printed) and trusts no proxy, so a
    forged X-Forwarded-For cannot pick the address rate limits count by."""
    app = create_app(_production(**PRODUCTION))
    assert app.config["SMS_BACKEND"] == "off"
    assert app.config["PROXY_FIX_HOPS"] == 0


def test_production_logs_the_trusted_proxy_hops(caplog):
    """Start-up says how many proxy hops are trusted for X-Forwarded-*."""
    with caplog.at_level("INFO"):
        create_app(_production(**PRODUCTION), PROXY_FIX_HOPS=1)
    assert "from 1 proxy hop(s)" in caplog.text
