"""Queueing messages: render now, deliver later (spec §5).

``queue_email`` and ``queue_sms`` add an outbox item to the *caller's* transaction,
so a message exists exactly when the change that caused it is committed. The
rendered text goes into the (sealed) payload: a template changed later does not
change a message already queued.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any

from app.messages.rendering import render
from app.models import OutboxItem
from app.outbox.queue import enqueue

#: E.164: a plus sign and up to 15 digits.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def queue_email(
    to: str,
    key: str,
    lang: str,
    variables: dict[str, Any],
    *,
    invitation_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> OutboxItem:
    """Render message ``key`` in ``lang`` and queue it as an email to ``to``.

    ``extra`` lands in the payload for a guard to read at delivery time. Not committed.
    """
    if not _single_address(to):
        raise ValueError("an email goes to exactly one plain address")
    rendered = render(key, lang, variables)
    if rendered.subject is None or rendered.text is None:
        raise ValueError(f"message {key!r} has no email templates in {lang!r}")
    parts = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
    return _enqueue("email", to, key, lang, parts, invitation_id, extra)


def queue_sms(
    to: str,
    key: str,
    lang: str,
    variables: dict[str, Any],
    *,
    invitation_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> OutboxItem:
    """Render message ``key`` in ``lang`` and queue it as an SMS to the E.164 number ``to``."""
    if not E164.fullmatch(to):
        raise ValueError("an SMS goes to an E.164 number")
    rendered = render(key, lang, variables)
    if rendered.sms is None:
        raise ValueError(f"message {key!r} has no sms.txt in {lang!r}")
    return _enqueue("sms", to, key, lang, {"text": rendered.sms}, invitation_id, extra)


def _enqueue(
    kind: str,
    to: str,
    key: str,
    lang: str,
    parts: dict[str, Any],
    invitation_id: int | None,
    extra: dict[str, Any] | None,
) -> OutboxItem:
    """The payload a sender needs (recipient, rendered parts, language, a guard's
    ``extra``), queued in the caller's transaction."""
    payload = {"to": to, **parts, "lang": lang, **(extra or {})}
    return enqueue(kind, key, to, payload, invitation_id=invitation_id)


def _single_address(to: str) -> bool:
    """One bare address: nothing a header could be split on or a second recipient hide in."""
    return (
        "@" in to
        and not any(c in to for c in ",;<>\r\n\x00")
        and not any(c.isspace() for c in to)
        and parseaddr(to)[1] == to
    )
