"""Admin API: clients (spec §3.3)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("clients_api", __name__, description="Manage clients.")
