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
