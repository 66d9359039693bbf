"""The TOTP second factor (RFC 6238, with pyotp) and its one-time recovery codes
(issue 16).

Enrolment has two steps: ``begin`` makes a fresh secret and the page shows it as a QR
code and as text; ``confirm`` takes a first code from the person's app, and only then
is the authenticator stored (its secret sealed with ``app.crypto.seal``, purpose
"totp") and counts, with ten recovery codes shown that once. Until then nothing is
written: the caller keeps the enrolment it began, its secret sealed for that account
(``Enrolment.sealed``), in the browser's signed session, so showing the set-up page
writes no row, giving up is forgetting it, and nobody else's enrolment is ever
confirmed.

A code is six digits from the current 30-second step or the one either side
(clocks drift), compared in constant time; a code from a step at or before the last
one accepted is refused (a code works once), claimed in one statement so that two
concurrent uses cannot both pass. Recovery codes are stored as keyed hashes and each
works once. Wrong codes count towards the sign-in back-off (app/accounts/throttle.py),
per account, and a correct password does not clear that count: only a correct code.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import segno
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app import events
from app.accounts import throttle
from app.accounts.errors import AccountError
from app.crypto import keyed_hash, keyed_hashes, seal, unseal
from app.errors import Conflict
from app.extensions import db
from app.models import Account, utcnow
from app.models.factors import RecoveryCode, TotpFactor

SEAL_PURPOSE = "totp"
#: An enrolment's secret on its way through the browser is sealed for its account.
_ENROLMENT_PURPOSE = "totp-enrolment"
#: Digits of a code (pyotp's and every authenticator app's default).
DIGITS = 6
#: Steps either side of the current one whose codes are still accepted (±30 s).
VALID_WINDOW = 1
#: Recovery codes made at a time, and their shape: two groups of five characters from
#: an alphabet without look-alikes (0/o, 1/l/i): about 49 bits each.
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUP = 5
_RECOVERY_PURPOSE = "recovery-code"


class CodeRefused(AccountError):
    """A code that is wrong, used already or from an older step (400); it counts
    towards the back-off."""

    def __init__(self, description: str = "this code is not right; try the current one"):
        super().__init__(description, field="code")


class AlreadyEnrolled(Conflict):
    """The account has a confirmed authenticator already (remove it first)."""


class NotEnrolled(Conflict):
    """The account has no confirmed authenticator."""


@dataclass(frozen=True)
class Enrolment:
    """An authenticator being set up: what the page shows to add it to an app, and
    what the browser keeps until a first code confirms it."""

    #: The secret sealed for its account: what the caller keeps (``enrolment``).
    sealed: str
    secret: str
    uri: str

    @property
    def qr_code(self) -> str:
        """The ``otpauth://`` URI as a QR code: an SVG ``data:`` URI for an ``<img>``."""
        return segno.make(self.uri, error="m").svg_data_uri(scale=4, border=2)

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four letters, easier to type into an app."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


# -- enrolment -----------------------------------------------------------------------------


def begin(account: Account) -> Enrolment:
    """Start setting up an authenticator with a fresh secret. Writes nothing: the caller
    keeps ``sealed`` for ``enrolment`` and ``confirm``. AlreadyEnrolled when one is
    confirmed."""
    if authenticator(account) is not None:
        raise AlreadyEnrolled("two-step sign-in is set up already; remove it first")
    secret = pyotp.random_base32()
    return _enrolment(account, seal(secret, _enrolment_purpose(account)), secret)


def enrolment(account: Account, sealed: object) -> Enrolment | None:
    """The enrolment ``begin`` started for ``account`` and the caller kept (``sealed``),
    or None when there is none or it was sealed for someone else (or is not one)."""
    if not isinstance(sealed, str):
        return None
    try:
        secret = unseal(sealed, _enrolment_purpose(account))
    except (InvalidToken, ValueError):
        return None
    return _enrolment(account, sealed, secret)


def confirm(account: Account, sealed: object, code: str) -> list[str]:
    """Finish an enrolment with a first code from the app: the authenticator is stored
    and the recovery codes returned, shown only now. CodeRefused for a wrong code or no
    enrolment (it counts); TooManyFailures while slowed down; AlreadyEnrolled when one
    was confirmed meanwhile (another browser). Commits."""
    key = _throttle_key(account)
    throttle.refuse_if_blocked(key)
    started = enrolment(account, sealed)
    step = _matching_step(started.secret, code) if started is not None else None
    if started is None or step is None:
        throttle.record_failure(key)
        raise CodeRefused()
    now = utcnow()
    db.session.add(
        TotpFactor(
            account_id=account.id,
            sealed_secret=seal(started.secret, SEAL_PURPOSE),
            confirmed_at=now,
            last_used_at=now,
            last_step=step,
        )
    )
    try:
        db.session.flush()
    except IntegrityError:
        # The account has one already, confirmed meanwhile in another browser (one
        # row per account: the unique account_id decides, whoever came first).
        db.session.rollback()
        raise AlreadyEnrolled("two-step sign-in is set up already") from None
    codes = _replace_recovery_codes(account)
    throttle.forget_failures(key)
    actor = f"account:{account.sub}"
    events.record("user.mfa_enrolled", actor, sub=account.sub, method="totp")
    db.session.commit()
    return codes


def _enrolment(account: Account, sealed: str, secret: str) -> Enrolment:
    label = account.email or account.phone_number or account.sub
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=label, issuer_name=current_app.config["ACCOUNT_NAME"]
    )
    return Enrolment(sealed, secret, uri)


def _enrolment_purpose(account: Account) -> str:
    # Bound to the account: a sealed enrolment of one account is nothing to another.
    return f"{_ENROLMENT_PURPOSE}:{account.sub}"


# -- signing in ----------------------------------------------------------------------------


def verify(account: Account, code: str) -> None:
    """Accept a code from the authenticator app or a recovery code, once. CodeRefused
    otherwise (it counts towards the back-off); TooManyFailures while slowed down.
    Commits."""
    key = _throttle_key(account)
    throttle.refuse_if_blocked(key)
    typed = normalise(code)
    is_totp = typed.isdigit() and len(typed) == DIGITS
    ok = _use_totp(account, typed) if is_totp else _use_recovery_code(account, typed)
    if not ok:
        db.session.rollback()
        throttle.record_failure(key)
        raise CodeRefused()
    throttle.forget_failures(key)
    db.session.commit()


def normalise(code: str | None) -> str:
    """A typed code without spaces or dashes, lower case."""
    return "".join((code or "").split()).replace("-", "").lower()[:64]


def _use_totp(account: Account, code: str) -> bool:
    row = authenticator(account)
    step = _matching_step(_secret(row), code) if row is not None else None
    if step is None:
        return False
    # Claimed in one statement: of two uses of one code (or of an older one), one wins.
    claimed = db.session.execute(
        update(TotpFactor)
        .where(TotpFactor.id == row.id)
        .where((TotpFactor.last_step.is_(None)) | (TotpFactor.last_step < step))
        .values(last_step=step, last_used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code ``code`` is (within the window), or None."""
    code = normalise(code)
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now(UTC))
    found = None
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        # Every candidate is compared, in constant time, whichever matches.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _secret(row: TotpFactor) -> str:
    return unseal(row.sealed_secret, SEAL_PURPOSE)


def _throttle_key(account: Account) -> str:
    # Not the email's key: a correct password clears that one, and must not clear this.
    return f"second-factor:{account.sub}"


# -- recovery codes ------------------------------------------------------------------------


def new_recovery_codes(account: Account) -> list[str]:
    """Replace the account's recovery codes with ten new ones, shown only now.
    NotEnrolled without a confirmed authenticator. Commits."""
    if authenticator(account) is None:
        raise NotEnrolled("two-step sign-in is not set up")
    codes = _replace_recovery_codes(account)
    events.record("user.recovery_codes_created", f"account:{account.sub}", sub=account.sub)
    db.session.commit()
    return codes


def recovery_codes_left(account: Account) -> int:
    """How many of the account's recovery codes are unused."""
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
        )
    )


def _replace_recovery_codes(account: Account) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(account_id=account.id, code_hash=_recovery_hash(account, normalise(code)))
        for code in codes
    )
    return codes


def _new_recovery_code() -> str:
    letters = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(2 * RECOVERY_GROUP))
    return f"{letters[:RECOVERY_GROUP]}-{letters[RECOVERY_GROUP:]}"


def _recovery_hash(account: Account, code: str) -> str:
    return keyed_hash(f"{account.sub}:{code}", _RECOVERY_PURPOSE)


def _use_recovery_code(account: Account, code: str) -> bool:
    if authenticator(account) is None:
        return False
    hashes = keyed_hashes(f"{account.sub}:{code}", _RECOVERY_PURPOSE)
    claimed = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_hash.in_(hashes),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


# -- the authenticator ---------------------------------------------------------------------


def authenticator(account: Account) -> TotpFactor | None:
    """The account's confirmed authenticator, if any."""
    return db.session.scalar(
        select(TotpFactor).where(
            TotpFactor.account_id == account.id, TotpFactor.confirmed_at.is_not(None)
        )
    )


def remove(account: Account, actor: str) -> bool:
    """Remove the authenticator and the recovery codes; whether a confirmed one was
    removed (only then is ``user.mfa_removed`` recorded). Commits."""
    had_one = authenticator(account) is not None
    db.session.execute(delete(TotpFactor).where(TotpFactor.account_id == account.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    if had_one:
        events.record("user.mfa_removed", actor, sub=account.sub, method="totp")
    db.session.commit()
    return had_one
