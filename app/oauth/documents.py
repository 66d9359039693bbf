"""Public JSON documents (discovery, JWKS) served like static files: a fixed body and
a strong ETag that is its hash, so every process gives the same validator."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """A serialised JSON document and its strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, data: dict) -> Document:
        """The document for ``data``, serialised the same way in every process."""
        body = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return cls(body=body, etag=hashlib.sha256(body).hexdigest()[:32])
