"""Webhooks (spec §6): endpoints, event fan-out to the outbox, signed delivery."""

from __future__ import annotations

from flask import Flask


def init_webhooks(app: Flask) -> None:
    """Register the webhook sender."""
    from app.outbox.senders import register_sender
    from app.webhooks.delivery import send
    from app.webhooks.fanout import KIND

    register_sender(KIND, send)
