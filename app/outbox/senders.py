"""What the outbox delivers with: one sender per kind, registered by the packages that
own the kind (messages: email and SMS; webhooks), and what one attempt gave (``Outcome``).

A sender gets the item and its unsealed payload and returns an ``Outcome`` (or raises,
which counts as a failure). A kind may also name a hook run in the transaction that
marks an item sent, and a closer run on each of its threads as it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.models import OutboxItem
from app.outbox.threads import Closer


@dataclass
class Outcome:
    """What one delivery attempt gave."""

    ok: bool
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    #: Retrying cannot help (e.g. an address the server refuses for good): dead now.
    permanent: bool = False


Sender = Callable[[OutboxItem, dict[str, Any]], Outcome]
#: Called in the transaction that marks an item sent (e.g. invitation.sent_at).
AfterSent = Callable[[OutboxItem], None]

_SENDERS: dict[str, Sender] = {}
_AFTER_SENT: dict[str, AfterSent] = {}
_CLOSERS: dict[str, Closer] = {}


def register_sender(
    kind: str,
    sender: Sender,
    after_sent: AfterSent | None = None,
    closer: Closer | None = None,
) -> None:
    """Deliver items of ``kind`` with ``sender`` (the messages and webhooks packages do);
    ``closer`` runs on each of the kind's threads as it ends."""
    _SENDERS[kind] = sender
    if after_sent is not None:
        _AFTER_SENT[kind] = after_sent
    if closer is not None:
        _CLOSERS[kind] = closer


def sender_for(kind: str) -> Sender | None:
    """The sender registered for ``kind``, if any."""
    return _SENDERS.get(kind)


def after_sent_hook(kind: str) -> AfterSent | None:
    """The hook run when an item of ``kind`` is marked sent, if any."""
    return _AFTER_SENT.get(kind)


def closers() -> dict[str, Closer]:
    """Each kind's closer, for the threads (the registry itself: senders registered
    later are seen too)."""
    return _CLOSERS
