"""Verifying a mobile number by a code sent by SMS (issue 15): ``phone_number_verified``
becomes true only when the person types the six digits Vestibule texted to the number.

A code works once, for ``PHONE_CODE_LIFETIME`` seconds, for at most
``PHONE_CODE_ATTEMPTS`` guesses (each guess is counted before it is compared, in one
statement, so concurrent guesses cannot exceed them), and only while the account still
has the number it was sent to. A new code ends the earlier ones. Six digits are few, so
only an HMAC keyed from SECRET_KEY is stored: a database dump alone does not give a
code away. The SMS goes through the outbox like every message.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app import events
from app.accounts.errors import AccountError
from app.accounts.verification import NothingToVerify
from app.crypto import keyed_hash
from app.errors import Conflict
from app.extensions import db
from app.invitations import catalog
from app.messages import queue_sms
from app.models import Account, PhoneCode, utcnow

#: The message key of the SMS (templates/messages/verify_phone/<lang>/sms.txt).
MESSAGE = "verify_phone"
DIGITS = 6


class CodeRefused(AccountError):
    """A code that is wrong, used, expired or out of tries (400); the attempt counts."""

    def __init__(self, description: str):
        super().__init__(description, field="code")


class SmsUnavailable(Conflict):
    """This server sends no text messages (``SMS_BACKEND=off``)."""


def sms_available() -> bool:
    """Whether this server sends text messages at all."""
    return current_app.config["SMS_BACKEND"] != "off"


def send_code(account: Account, lang: str | None) -> PhoneCode:
    """Text a new code to the account's unverified mobile number, ending earlier codes.
    Commits. NothingToVerify or SmsUnavailable otherwise (nothing is sent)."""
    if not account.phone_number:
        raise NothingToVerify("this account has no mobile number")
    if account.phone_number_verified:
        raise NothingToVerify("this mobile number is verified already")
    if not sms_available():
        raise SmsUnavailable("text messages are not available on this server")
    now = utcnow()
    _end_codes(account, now)
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    lifetime = current_app.config["PHONE_CODE_LIFETIME"]
    row = PhoneCode(
        account=account,
        phone_number=account.phone_number,
        code_hash=_hash(account, account.phone_number, code),
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    db.session.add(row)
    variables = {
        "code": code,
        "minutes": str(max(1, lifetime // 60)),
        "account_name": current_app.config["ACCOUNT_NAME"],
    }
    queue_sms(account.phone_number, MESSAGE, _language(lang), variables)
    db.session.commit()
    return row


def check_code(account: Account, code: str) -> None:
    """Mark the mobile number verified when ``code`` is the one texted to it. Commits.

    CodeRefused for a wrong code (one try spent; that is written) and for no working
    code at all, NothingToVerify for a number verified already (nothing written).
    """
    if account.phone_number_verified:
        raise NothingToVerify("this mobile number is verified already")
    row = _current_code(account)
    if row is None or not _spend_a_try(row):
        db.session.rollback()
        raise CodeRefused("this code no longer works; ask for a new one")
    typed = "".join((code or "").split())
    if not hmac.compare_digest(row.code_hash, _hash(account, row.phone_number, typed)):
        db.session.commit()  # the try stays spent
        raise CodeRefused("this code is not the one we sent")
    row.used_at = utcnow()
    account.phone_number_verified = True
    account.updated_at = row.used_at
    actor = f"account:{account.sub}"
    events.record("user.phone_number_verified", actor, sub=account.sub)
    db.session.commit()


def _current_code(account: Account) -> PhoneCode | None:
    """The newest unused, unexpired code for the number the account has now."""
    return db.session.scalar(
        select(PhoneCode)
        .where(
            PhoneCode.account_id == account.id,
            PhoneCode.phone_number == account.phone_number,
            PhoneCode.used_at.is_(None),
            PhoneCode.expires_at > utcnow(),
        )
        .order_by(PhoneCode.id.desc())
        .limit(1)
    )


def _spend_a_try(row: PhoneCode) -> bool:
    """Count one guess unless the code is out of tries (of concurrent guesses, only
    as many as are left get through)."""
    spent = db.session.execute(
        update(PhoneCode)
        .where(
            PhoneCode.id == row.id,
            PhoneCode.used_at.is_(None),
            PhoneCode.attempts < current_app.config["PHONE_CODE_ATTEMPTS"],
        )
        .values(attempts=PhoneCode.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return spent == 1


def end_codes(account: Account) -> None:
    """End the account's unused codes (in the caller's transaction): its number changed."""
    _end_codes(account, utcnow())


def _end_codes(account: Account, now) -> None:
    db.session.execute(
        update(PhoneCode)
        .where(
            PhoneCode.account_id == account.id,
            PhoneCode.used_at.is_(None),
            PhoneCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def _hash(account: Account, phone_number: str, code: str) -> str:
    return keyed_hash(f"{account.sub}:{phone_number}:{code}", "phone-code")


def _language(lang: str | None) -> str:
    if lang in catalog.languages(MESSAGE):
        return lang
    return current_app.config["DEFAULT_LANG"]
