"""Secret generation and hashing for random, high-entropy secrets.

Client secrets, authorization codes, access and refresh tokens are 256-bit random
values, so a single SHA-256 is enough to make a database dump useless (no
dictionary to try); passwords, which people choose, use argon2id instead
(``app.accounts.passwords``). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
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


# -- sealing: secrets the server must read back (webhook secrets, outbox payloads) -------


def _fernet(purpose: str):
    """Fernet keys derived from SECRET_KEY, then from each of SECRET_KEY_FALLBACKS:
    new values are sealed with the first, old ones still open after a key change."""
    from cryptography.fernet import Fernet, MultiFernet
    from flask import current_app

    config = current_app.config
    keys = [config["SECRET_KEY"], *(config["SECRET_KEY_FALLBACKS"] or ())]
    return MultiFernet([Fernet(_derived_key(key, purpose)) for key in keys])


def _derived_key(secret_key: str, purpose: str) -> bytes:
    digest = hmac.new(secret_key.encode(), f"seal:{purpose}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


def seal(value: str, purpose: str) -> str:
    """Encrypt and authenticate ``value`` with a key derived from SECRET_KEY for ``purpose``.

    For values the server must read back later but that must not lie in the database
    in clear (a webhook signing secret, a message holding an invitation link).
    Changing SECRET_KEY makes sealed values unreadable.
    """
    return _fernet(purpose).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(token: str, purpose: str) -> str:
    """The value ``seal`` sealed for ``purpose``; InvalidToken if it was not."""
    return _fernet(purpose).decrypt(token.encode("ascii")).decode("utf-8")


# -- keyed hashes: short secrets people type (codes), which a plain hash would not hide --


def keyed_hash(message: str, purpose: str, secret_key: str | None = None) -> str:
    """The hex HMAC-SHA-256 of ``message`` under a key derived from SECRET_KEY (or
    ``secret_key``) for ``purpose``: a database dump alone does not give a six-digit
    or ten-letter code away, as a plain hash of it would."""
    from flask import current_app

    secret_key = secret_key or current_app.config["SECRET_KEY"]
    key = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def keyed_hashes(message: str, purpose: str) -> list[str]:
    """``keyed_hash`` under SECRET_KEY, then under each of SECRET_KEY_FALLBACKS: what a
    code stored before a key change may be stored as."""
    from flask import current_app

    config = current_app.config
    keys = [config["SECRET_KEY"], *(config["SECRET_KEY_FALLBACKS"] or ())]
    return [keyed_hash(message, purpose, key) for key in keys]
