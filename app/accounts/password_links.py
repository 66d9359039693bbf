"""Password links (spec §4): "forgot your password?" emails, and the set-password
(recovery) links administrators issue.

A link carries a 256-bit random token; only its SHA-256 is stored (``PasswordToken``)
and the row decides whether the link still works: once, before ``expires_at``, for an
account that is not disabled. Issuing a link ends the account's other unused links of
the same purpose. Using one ends all of them and every sign-in the account has
(browser sessions, access and refresh tokens, unredeemed codes): whoever knew the old
password is out.

Transactions: ``issue`` only adds to the caller's session, like ``events.record`` and
``outbox.queue.enqueue``. ``request_reset``, ``issue_set_link`` and ``use`` commit, so
a link, its email in the outbox and its event exist together or not at all.

The same rows and mechanics (``issue``, ``send``, ``find_usable``, ``claim``) serve
email verification links (purpose ``verify_email``, app/accounts/verification.py);
every lookup names its purposes, so no link opens another purpose's page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app import events
from app.accounts.errors import AccountError
from app.accounts.passwords import hash_password
from app.accounts.revocation import end_password_links, end_sign_ins
from app.accounts.service import find, find_by_email
from app.accounts.validation import check_password_policy, normalise_email
from app.crypto import hash_secret, new_secret
from app.errors import Conflict, DomainError
from app.extensions import db
from app.invitations import catalog
from app.messages import format_datetime, queue_email
from app.models import (
    Account,
    PasswordToken,
    utcnow,
)

RESET, SET, VERIFY_EMAIL = "reset", "set", "verify_email"
#: The purposes whose links set a password.
PASSWORD_PURPOSES = (RESET, SET)
#: purpose -> the message template key and the template's variable holding the link.
MESSAGES = {
    RESET: ("reset_password", "reset_link"),
    SET: ("set_password", "set_link"),
    VERIFY_EMAIL: ("verify_email", "verify_link"),
}
#: purpose -> the path of the page its links open (the token follows).
PAGES = {RESET: "/password/reset/", SET: "/password/reset/", VERIFY_EMAIL: "/verify/email/"}
#: Shortest ``expires_in`` an administrator may give a set-password link (seconds).
MIN_LIFETIME = 60
#: The actor recorded when someone asks for a reset on the "forgot" page.
SELF_SERVICE = "self-service"
#: Our tokens are 43 characters; anything much longer is not worth hashing.
MAX_TOKEN_LENGTH = 128


class InvalidPasswordLink(DomainError):
    """A set-password link request the service refuses (400); nothing is written."""

    def __init__(self, field: str, description: str):
        super().__init__(f"{field}: {description}", field=field)


class LinkUnusable(DomainError):
    """The link is unknown, used, expired or superseded, or its account is disabled."""

    status = 410
    code = "link_unusable"


class CannotIssueLink(Conflict):
    """The account cannot get a link now: it is disabled, or has no address to send to."""


# -- issuing ---------------------------------------------------------------------------


def link_for(token: str, purpose: str = RESET) -> str:
    """The page where a link of ``purpose`` with ``token`` is used."""
    return f"{current_app.config['ISSUER']}{PAGES[purpose]}{token}"


def issue(account: Account, purpose: str, expires_in: int, actor: str) -> tuple[PasswordToken, str]:
    """Add a new link for ``account`` to the session (not committed), ending its other
    unused links of this purpose. Returns the row and the link, shown only now."""
    if purpose not in MESSAGES:
        raise ValueError(f"unknown password link purpose {purpose!r}")
    now = utcnow()
    end_password_links(account, now, purpose)
    token = new_secret()
    row = PasswordToken(
        token_hash=hash_secret(token),
        account=account,
        purpose=purpose,
        created_by=actor[:128],
        created_at=now,
        expires_at=now + timedelta(seconds=expires_in),
    )
    db.session.add(row)
    return row, link_for(token, purpose)


def request_reset(email: str, lang: str | None = None) -> None:
    """The "forgot your password?" form: email a reset link when an enabled account has
    this address, else do nothing. Commits.

    The caller answers the same either way, and the time taken hardly differs: both
    ways look the address up once and neither hashes a password (argon2's tenth of a
    second would tell); what remains is the few small writes of the first.
    """
    account = find_by_email(_address(email))
    if account is None or account.disabled:
        return
    row, link = issue(account, RESET, current_app.config["PASSWORD_RESET_LIFETIME"], SELF_SERVICE)
    events.record("user.password_reset_requested", SELF_SERVICE, sub=account.sub)
    send(account, RESET, link, row.expires_at, language(RESET, lang, strict=False))
    db.session.commit()


def issue_set_link(
    sub: str,
    actor: str,
    *,
    expires_in: int | None = None,
    notify: bool = True,
    lang: str | None = None,
) -> tuple[PasswordToken, str]:
    """An administrator's set-password (recovery) link for account ``sub``, emailed to
    it unless ``notify`` is false. Commits; everything is checked before anything is
    written. Returns the row and the link, shown only now."""
    account = find(sub)
    lifetime = _lifetime(expires_in)
    lang = language(SET, lang, strict=True)
    if account.disabled:
        raise CannotIssueLink("this account is disabled; enable it before issuing a link")
    if notify and not account.email:
        raise CannotIssueLink("this account has no email address; ask with notify=false")
    row, link = issue(account, SET, lifetime, actor)
    events.record("user.password_link_issued", actor, sub=account.sub, notify=bool(notify))
    if notify:
        send(account, SET, link, row.expires_at, lang)
    db.session.commit()
    return row, link


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except AccountError:
        return email.strip().lower()


def _lifetime(expires_in: int | None) -> int:
    if expires_in is None:
        return current_app.config["SET_PASSWORD_LIFETIME"]
    maximum = current_app.config["SET_PASSWORD_MAX_LIFETIME"]
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise InvalidPasswordLink("expires_in", "must be a whole number of seconds")
    if not MIN_LIFETIME <= expires_in <= maximum:
        raise InvalidPasswordLink("expires_in", f"must be between {MIN_LIFETIME} and {maximum}")
    return expires_in


def language(purpose: str, lang: str | None, *, strict: bool) -> str:
    """``lang`` when its template exists; else the default language, or (strict) a
    refusal."""
    key = MESSAGES[purpose][0]
    if lang in catalog.languages(key):
        return lang
    if lang and strict:
        raise InvalidPasswordLink("lang", f"no {key!r} message in {lang!r}")
    return current_app.config["DEFAULT_LANG"]


def send(
    account: Account,
    purpose: str,
    link: str,
    expires_at: datetime,
    lang: str,
    to: str | None = None,
) -> None:
    """Queue the link's email to ``to`` (by default the account's email) in the current
    transaction (outbox topic = template key)."""
    key, link_variable = MESSAGES[purpose]
    variables = {
        "name": account.given_name or account.email,
        link_variable: link,
        "expires_at": format_datetime(expires_at, lang),
        "account_name": current_app.config["ACCOUNT_NAME"],
    }
    queue_email(to or account.email, key, lang, variables)


# -- using -----------------------------------------------------------------------------


def find_usable(
    token: str | None, purposes: tuple[str, ...] = PASSWORD_PURPOSES
) -> PasswordToken | None:
    """The link's row while it still works; None for unknown, used, expired or
    superseded links, links of other purposes, and disabled accounts. Reads only
    (mail scanners open links)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.scalar(
        select(PasswordToken).where(
            PasswordToken.token_hash == hash_secret(token), PasswordToken.purpose.in_(purposes)
        )
    )
    if row is None or not row.usable(utcnow()) or row.account.disabled:
        return None
    return row


def use(token: str, new_password: str) -> Account:
    """Set the account's password through a link, once, and end its sign-ins. Commits.

    Raises AccountError for a password the policy refuses and LinkUnusable for a link
    that does not work (including the loser of two concurrent uses); either way
    nothing is written. A reset link proves control of the address it was emailed
    to, so it also marks the email verified; a set-password link may have been handed
    over otherwise (``notify=false``) and does not.
    """
    check_password_policy(new_password)
    row = find_usable(token)
    if row is None:
        raise LinkUnusable("this link has expired or was already used")
    # Hash before claiming the link: argon2 is the slow part, the claim's lock is short.
    password_hash = hash_password(new_password)
    now = utcnow()
    if not claim(row, now):
        db.session.rollback()
        raise LinkUnusable("this link has expired or was already used")
    account = row.account
    account.password_hash = password_hash
    if row.purpose == RESET:
        account.email_verified = True
    end_sign_ins(account, now)  # every other link too
    kind = "user.password_reset" if row.purpose == RESET else "user.password_set"
    events.record(kind, f"account:{account.sub}", sub=account.sub)
    db.session.commit()
    return account


def claim(row: PasswordToken, now: datetime) -> bool:
    """Mark the link used unless it already is: of concurrent uses, one wins."""
    claimed = db.session.execute(
        update(PasswordToken)
        .where(
            PasswordToken.id == row.id,
            PasswordToken.used_at.is_(None),
            PasswordToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1
