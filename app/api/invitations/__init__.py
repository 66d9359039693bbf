"""Admin API: invitations (spec §3.3). This module holds the blueprint; the routes are
in create.py (one invitation, or many at once), search.py (the list and its
statistics) and single.py (one invitation: read, resend, revoke), the shapes they
answer with in schemas.py. app/api/__init__.py imports the route modules in that
order, which is the order of the OpenAPI document's paths."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint(
    "invitations_api", __name__, description="Invite people and follow their invitations."
)
