"""Secret generation and hashing for random, high-entropy secrets.

Client secrets, authorization codes, access and refresh tokens are 256-bit random
values, so a single SHA-256 is enough to make a database dump useless (no
dictionary to try); passwords, which people choose, use argon2id instead
(``app.accounts.passwords``). Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random secret of ``nbytes`` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a random secret, as stored at rest."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str | None, stored_hash: str | None) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, compared in constant time."""
    if not secret or not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)
