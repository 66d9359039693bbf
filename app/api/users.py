"""Admin API: users (spec §3.3)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("users_api", __name__, description="Manage users.")
