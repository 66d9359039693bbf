"""The settings of a webhook endpoint, checked before anything is stored: its URL
(absolute http(s), no credentials or fragment, no private address unless
WEBHOOK_ALLOW_PRIVATE_ADDRESSES), its event types and its description."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from app.errors import DomainError
from app.events import WEBHOOK_EVENT_TYPES
from app.webhooks.addresses import names_private_host

#: Longest URL and description accepted (the columns' lengths).
URL_LENGTH = 2048
DESCRIPTION_LENGTH = 256


class WebhookError(DomainError):
    """Endpoint settings that cannot be registered (400); the message is safe to show."""


def check_url(url: Any) -> str:
    """An absolute http(s) URL with a host, ASCII, no credentials, no fragment."""
    if not isinstance(url, str) or not url or len(url) > URL_LENGTH:
        raise WebhookError(f"url: 1 to {URL_LENGTH} characters", field="url")
    if not url.isascii() or any(char.isspace() or ord(char) < 0x20 for char in url):
        raise WebhookError(
            "url: ASCII without spaces (percent-encode the path, punycode the host)", field="url"
        )
    try:
        parts = urlsplit(url)
        hostname, _ = parts.hostname, parts.port  # .port refuses a non-numeric port
    except ValueError:
        raise WebhookError(f"url: not a valid URL: {url!r}", field="url") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise WebhookError(f"url: must be http:// or https:// with a host: {url!r}", field="url")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("url: must not carry credentials (user:password@)", field="url")
    if parts.fragment:
        raise WebhookError("url: must not have a fragment", field="url")
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] and names_private_host(hostname):
        raise WebhookError(
            "url: must not point at a loopback, private or link-local address", field="url"
        )
    return url


def check_event_types(types: Any) -> list[str]:
    """A non-empty list of spec §6 event types, duplicates removed, order kept."""
    if isinstance(types, str) or not isinstance(types, Iterable):
        raise WebhookError("event_types: a list of event types", field="event_types")
    values = list(dict.fromkeys(types))
    if not values:
        raise WebhookError("event_types: name at least one event type", field="event_types")
    unknown = [value for value in values if value not in WEBHOOK_EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"unknown event types: {', '.join(map(str, unknown))} "
            f"(known: {', '.join(WEBHOOK_EVENT_TYPES)})",
            field="event_types",
        )
    return values


def check_description(description: Any) -> str | None:
    """None, or a short text (an empty one counts as none)."""
    if description is None or description == "":
        return None
    if not isinstance(description, str) or len(description) > DESCRIPTION_LENGTH:
        raise WebhookError(
            f"description: at most {DESCRIPTION_LENGTH} characters", field="description"
        )
    if "\x00" in description:
        raise WebhookError("description: must not contain NUL characters", field="description")
    return description
