"""Rate limits of the account page and the verification messages (config.py,
RateLimitSettings): forms that check a password count as sign-ins per client address;
verification messages are limited per account as well, so nobody floods a mailbox or
a phone from many addresses."""

from __future__ import annotations

import math

from flask import current_app
from flask_babel import ngettext
from flask_limiter.util import get_remote_address

from app.accounts.sessions import current_account


def sign_in_limit() -> str:
    """Forms that check a password (per client address)."""
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def account_limit() -> str:
    """The account page's other forms (per client address)."""
    return current_app.config["ACCOUNT_RATE_LIMIT"]


def verification_limit() -> str:
    """Verification messages one account may ask for (each kind apart)."""
    return current_app.config["VERIFICATION_RATE_LIMIT"]


def verification_client_limit() -> str:
    """Verification messages asked for from one client address."""
    return current_app.config["VERIFICATION_CLIENT_RATE_LIMIT"]


def signed_in_account() -> str:
    """The rate-limit key of the signed-in account (the client address when none)."""
    account = current_account()
    return f"account:{account.sub}" if account is not None else get_remote_address()


def slowed_down_text(retry_after: int) -> str:
    """What a form says while the address's password guesses are slowed down."""
    minutes = math.ceil(retry_after / 60)
    return ngettext(
        "Too many failed attempts for this email address. Please try again in %(num)d minute.",
        "Too many failed attempts for this email address. Please try again in %(num)d minutes.",
        minutes,
    )
