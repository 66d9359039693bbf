"""Admin API: groups (spec §3.3)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("groups_api", __name__, description="Manage groups.")
