"""A software authenticator for tests: a P-256 key that answers WebAuthn ceremonies the
way a browser hands them on (``PublicKeyCredential`` JSON), so the service's checks run
on real signatures. Browser journeys use Chromium's virtual authenticator instead
(tests/e2e/test_passkeys_browser.py)."""

from __future__ import annotations

import hashlib
import json
import os
from base64 import urlsafe_b64encode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import encode_cbor

USER_PRESENT, USER_VERIFIED, BACKUP_ELIGIBLE, ATTESTED = 0x01, 0x04, 0x08, 0x40


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftPasskey:
    """One credential: its key, id, signature counter and the user handle it holds."""

    def __init__(self, rp_id: str = "localhost", synced: bool = False):
        self.rp_id, self.synced = rp_id, synced
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.raw_id = os.urandom(16)
        self.id = b64url(self.raw_id)
        self.count = 0
        self.handle: bytes | None = None

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return encode_cbor({1: 2, 3: -7, -1: 1, -2: x, -3: y})  # COSE EC2 key, ES256, P-256

    def _auth_data(self, flags: int, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        if self.synced:
            flags |= BACKUP_ELIGIBLE
        return rp_hash + bytes([flags]) + self.count.to_bytes(4, "big") + extra

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        body = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(body).encode()

    def create(self, options: dict, origin: str = "http://localhost", verified=True) -> str:
        """The answer to ``navigator.credentials.create(options)`` (attestation none)."""
        self.handle = _bytes(options["user"]["id"])
        attested = bytes(16) + len(self.raw_id).to_bytes(2, "big") + self.raw_id + self.cose_key()
        flags = USER_PRESENT | ATTESTED | (USER_VERIFIED if verified else 0)
        attestation = encode_cbor(
            {"fmt": "none", "attStmt": {}, "authData": self._auth_data(flags, attested)}
        )
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        response = {
            "clientDataJSON": b64url(client_data),
            "attestationObject": b64url(attestation),
            "transports": ["internal"],
        }
        return self._credential(response)

    def get(
        self,
        options: dict,
        origin: str = "http://localhost",
        verified: bool = True,
        count: int | None = None,
        challenge: str | None = None,
    ) -> str:
        """The answer to ``navigator.credentials.get(options)``; the counter grows by one
        unless ``count`` is given."""
        self.count = self.count + 1 if count is None else count
        flags = USER_PRESENT | (USER_VERIFIED if verified else 0)
        auth_data = self._auth_data(flags)
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
            "userHandle": b64url(self.handle) if self.handle else None,
        }
        return self._credential(response)

    def _credential(self, response: dict) -> str:
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": response,
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )


def _bytes(value: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(value)
