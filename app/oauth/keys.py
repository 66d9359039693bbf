"""ID-token signing keys: kept in the database, rotated by command, published as JWKS."""

from __future__ import annotations

from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from app.extensions import db
from app.models import SigningKey, utcnow

#: How many of the newest keys stay published: the signing key and its predecessor.
PUBLISHED_KEYS = 2


def _new_key() -> SigningKey:
    key = RSAKey.generate_key(2048, auto_kid=True)
    return SigningKey(kid=key.kid, alg="RS256", private_jwk=key.as_dict(private=True))


def published_keys() -> list[SigningKey]:
    """Keys in the JWKS, newest first."""
    stmt = (
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
    )
    return list(db.session.scalars(stmt))


def ensure_signing_key() -> SigningKey:
    """The current signing key, creating the first one on first set-up."""
    keys = published_keys()
    if keys:
        return keys[0]
    row = _new_key()
    db.session.add(row)
    db.session.commit()
    return row


def rotate_keys() -> SigningKey:
    """Add a new signing key; keep its predecessor published, retire older ones."""
    row = _new_key()
    db.session.add(row)
    db.session.flush()
    for old in published_keys()[PUBLISHED_KEYS:]:
        old.retired_at = utcnow()
    db.session.commit()
    return row


def private_key(row: SigningKey) -> RSAKey:
    """The joserfc private key of a stored row."""
    return RSAKey.import_key(row.private_jwk)


def public_jwks() -> dict:
    """The JWKS document: public parts only, each with ``kid``, ``use`` and ``alg``."""
    ensure_signing_key()
    keys = []
    for row in published_keys():
        public = private_key(row).as_dict(private=False)
        public.update({"kid": row.kid, "use": "sig", "alg": row.alg})
        keys.append(public)
    return {"keys": keys}


def verification_keys() -> KeySet:
    """Every published key, for verifying tokens this server signed (id_token_hint)."""
    return KeySet([private_key(row) for row in published_keys()])
