"""Admin API: the outbox of messages and webhook deliveries (spec §5, §6)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("outbox_api", __name__, description="Pending, sent and dead deliveries")
