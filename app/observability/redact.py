"""Secrets out of log lines: the one function every log writer (Vestibule's handler,
gunicorn's access and error logs) runs its text through.

Some of our URLs are bearer secrets: whoever holds ``/i/<token>``, an ``invite_id``,
``/password/reset/<token>`` or ``/verify/email/<token>`` can use the invitation or
the link. Log files are read by more people, and kept longer, than the links live.
The secret part becomes ``[redacted]``; the shape of the URL stays, so a log still
tells which page was asked for.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

#: A slash as it appears in a URL, or percent-encoded inside another one's query
#: (``next=%2Fi%2F...``).
_SLASH = r"(?:/|%2F)"
#: Path prefixes whose next segment is a secret.
_SECRET_PATHS = ("i", "password/reset", "verify/email")
_PATH = re.compile(
    "(?P<keep>"
    + _SLASH
    + "(?:"
    + "|".join(prefix.replace("/", _SLASH) for prefix in _SECRET_PATHS)
    + ")"
    + _SLASH
    + r")(?P<secret>(?:(?!%2F|%3F|%23|%26)[^/?#&\s\"'<>])+)",
    re.IGNORECASE,
)
#: Query parameters whose value is a secret, also percent-encoded once or twice
#: inside another parameter (``next=/authorize%3F...%26invite_id%3D...``).
_SECRET_PARAMS = ("invite_id",)
_PARAM = re.compile(
    r"(?P<keep>(?:" + "|".join(_SECRET_PARAMS) + r")(?:=|%3D|%253D))"
    r"(?P<secret>(?:(?!%26|%2526|%23)[^&#\s\"'<>])+)",
    re.IGNORECASE,
)


#: Query parameters whose values are neither secret nor personal data (protocol
#: settings and the client's registered values): an access log keeps them. Any other
#: value (``login_hint``, ``state``, ``nonce``, a search for an email ...) is redacted.
PLAIN_PARAMS = frozenset(
    {
        "response_type",
        "response_mode",
        "client_id",
        "redirect_uri",
        "post_logout_redirect_uri",
        "scope",
        "prompt",
        "display",
        "max_age",
        "ui_locales",
        "view_type",
        "code_challenge_method",
        "grant_type",
    }
)


def redact_query(query: str) -> str:
    """A query string with every parameter's name but only PLAIN_PARAMS' values."""
    kept = []
    for part in query.split("&"):
        name, sep, _ = part.partition("=")
        kept.append(part if name in PLAIN_PARAMS or not sep else f"{name}={REDACTED}")
    return redact("&".join(kept))


def redact(text: str) -> str:
    """``text`` with every secret URL part (see the module docstring) replaced by
    ``[redacted]``; anything else is left as it is."""
    if not text:
        return text
    text = _PATH.sub(lambda m: m["keep"] + REDACTED, text)
    return _PARAM.sub(lambda m: m["keep"] + REDACTED, text)


class RedactFilter(logging.Filter):
    """Replaces a record's message by its redacted text (arguments merged in first), so
    every handler the record reaches afterwards sees only that."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_records_of(logger: logging.Logger) -> None:
    """Redact every record ``logger`` itself emits (once, however often called)."""
    if not any(isinstance(f, RedactFilter) for f in logger.filters):
        logger.addFilter(RedactFilter())
