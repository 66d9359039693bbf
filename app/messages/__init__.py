"""Messages (spec §5): templates, email and SMS backends, and their outbox senders."""

from __future__ import annotations

from flask import Flask


def init_messages(app: Flask) -> None:
    """Check the shipped templates and register the email and SMS senders."""
