"""Admin API: webhook endpoints and their deliveries (spec §6)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("webhooks_api", __name__, description="Webhook endpoints and deliveries")
