"""ID-token signing keys: sealed in the database, loaded once per kid, rotated in two
steps so relying parties see a key before it signs, published as JWKS.

A key is ``next`` (published, not signing), ``current`` (signing), ``previous``
(published so the tokens it signed still verify) or ``retired`` (gone from the JWKS).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from app.crypto import seal, unseal
from app.extensions import db
from app.models import SigningKey, utcnow
from app.oauth.documents import Document

NEXT, CURRENT, PREVIOUS, RETIRED = "next", "current", "previous", "retired"
#: The states whose keys are in the JWKS.
PUBLISHED = (NEXT, CURRENT, PREVIOUS)
#: What the private JWK is sealed for (app/crypto.py derives one key per purpose).
SEAL_PURPOSE = "signing-key"
_EXTENSION = "vestibule.signing_keys"


@dataclass
class _Cache:
    """Per-app memory: parsed private keys by kid, and the last JWKS built.

    Per app rather than per process, so test apps with other databases or another
    SECRET_KEY never see each other's keys. A kid names one key for ever (rotation
    adds kids, never changes one), so an entry never goes stale.
    """

    private: dict[str, RSAKey] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    jwks_kids: tuple[str, ...] = ()
    jwks: Document | None = None
    #: The published kids and their states as last read, and when (monotonic seconds).
    published: dict[str, str] | None = None
    read_at: float = 0.0


def forget_cached(app) -> None:
    """Drop what ``app`` remembers of its keys: for tests, which empty the tables under
    a running app (a deployment never deletes a key)."""
    cache = app.extensions.pop(_EXTENSION, None)
    if cache is not None:
        cache.published = None  # the JWKS kept in front of Flask is no longer current


def _cache() -> _Cache:
    return current_app.extensions.setdefault(_EXTENSION, _Cache())


def _new_key(state: str) -> SigningKey:
    key = RSAKey.generate_key(2048, auto_kid=True)
    public = key.as_dict(private=False)
    public.update({"kid": key.kid, "use": "sig", "alg": "RS256"})
    sealed = seal(json.dumps(key.as_dict(private=True)), SEAL_PURPOSE)
    return SigningKey(
        kid=key.kid, alg="RS256", state=state, public_jwk=public, private_jwk_sealed=sealed
    )


def published_keys(*, for_update: bool = False) -> list[SigningKey]:
    """Keys in the JWKS, oldest first."""
    stmt = select(SigningKey).where(SigningKey.state.in_(PUBLISHED)).order_by(SigningKey.id)
    return list(db.session.scalars(stmt.with_for_update() if for_update else stmt))


def all_keys() -> list[SigningKey]:
    """Every key, retired ones too, oldest first."""
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.id)))


def _current_key() -> SigningKey | None:
    # Newest first: should two processes both create the first key, all agree on one.
    stmt = select(SigningKey).where(SigningKey.state == CURRENT).order_by(SigningKey.id.desc())
    return db.session.scalars(stmt.limit(1)).first()


def ensure_signing_key() -> SigningKey:
    """The current signing key, creating the first one on first set-up."""
    row = _current_key()
    if row is None:
        row = _new_key(CURRENT)
        db.session.add(row)
        db.session.commit()
    return row


def publish_next_key() -> SigningKey:
    """Publish a new key that does not sign yet: the first step of a rotation."""
    ensure_signing_key()
    row = _new_key(NEXT)
    db.session.add(row)
    db.session.commit()
    _cache().published = None
    return row


def rotate_keys() -> SigningKey:
    """Let the oldest next key (a new one if none) sign; the old current stays
    published as previous; older previous keys are retired."""
    rows = published_keys(for_update=True)
    signer = next((row for row in rows if row.state == NEXT), None)
    if signer is None:
        signer = _new_key(NEXT)
        db.session.add(signer)
    for row in rows:
        _step_down(row)
    signer.state = CURRENT
    db.session.commit()
    _cache().published = None
    return signer


def _step_down(row: SigningKey) -> None:
    if row.state == CURRENT:
        row.state = PREVIOUS
    elif row.state == PREVIOUS:
        row.state, row.retired_at = RETIRED, utcnow()


def private_key(row: SigningKey) -> RSAKey:
    """The joserfc private key of a stored row, unsealed and parsed once per kid."""
    cache = _cache()
    key = cache.private.get(row.kid)
    if key is None:
        # Parsing costs ~40 ms of CPU; the lock keeps concurrent first uses to one.
        with cache.lock:
            key = cache.private.get(row.kid)
            if key is None:
                key = cache.private[row.kid] = _open(row)
    return key


def _open(row: SigningKey) -> RSAKey:
    return RSAKey.import_key(json.loads(unseal(row.private_jwk_sealed, SEAL_PURPOSE)))


def signing_key() -> tuple[str, RSAKey]:
    """The kid and private key that sign ID tokens now (no query in the steady state)."""
    published = _published()
    kid = [kid for kid, state in published.items() if state == CURRENT][-1]
    key = _cache().private.get(kid)
    if key is None:
        key = private_key(db.session.scalars(select(SigningKey).where(SigningKey.kid == kid)).one())
    return kid, key


def jwks_document() -> Document:
    """The JWKS (public parts only), rebuilt only when the published kids change, so
    every process answers with the same body and ETag."""
    kids = tuple(_published())
    cache = _cache()
    if cache.jwks is None or cache.jwks_kids != kids:
        cache.jwks, cache.jwks_kids = _build_jwks(kids), kids
    return cache.jwks


def jwks_still_current() -> Callable[[], bool]:
    """A check, callable outside any app context, that the JWKS ``jwks_document`` just
    returned is still the one it would return: the published kids are not yet due to
    be read again, and nothing in this process changed or forgot them since."""
    cache = _cache()
    published, until = cache.published, cache.read_at + _recheck_interval()
    return lambda: cache.published is published and time.monotonic() < until


def _published() -> dict[str, str]:
    """The published kids and their states, read again every SIGNING_KEYS_RECHECK
    seconds: a rotation made by another process reaches this one within that time
    (while the JWKS itself may be cached by clients for JWKS_MAX_AGE)."""
    cache = _cache()
    now = time.monotonic()
    if cache.published is None or now - cache.read_at >= _recheck_interval():
        published = _published_kids()
        if CURRENT not in published.values():
            ensure_signing_key()
            published = _published_kids()
        cache.published, cache.read_at = published, now
    return cache.published


def _recheck_interval() -> float:
    return float(current_app.config["SIGNING_KEYS_RECHECK"])


def _published_kids() -> dict[str, str]:
    stmt = (
        select(SigningKey.kid, SigningKey.state)
        .where(SigningKey.state.in_(PUBLISHED))
        .order_by(SigningKey.id)
    )
    return dict(db.session.execute(stmt).all())


def _build_jwks(kids: tuple[str, ...]) -> Document:
    stmt = select(SigningKey.kid, SigningKey.public_jwk).where(SigningKey.kid.in_(kids))
    public = dict(db.session.execute(stmt).all())
    return Document.of({"keys": [public[kid] for kid in kids if kid in public]})


def public_jwks() -> dict:
    """The JWKS document: public parts only, each with ``kid``, ``use`` and ``alg``."""
    return json.loads(jwks_document().body)


def verification_keys() -> KeySet:
    """Every published key, public parts only, for verifying tokens this server signed
    (id_token_hint)."""
    return KeySet.import_key_set(public_jwks())
