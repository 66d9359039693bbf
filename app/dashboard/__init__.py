"""The admin dashboard (spec §7.4): server-rendered pages for people whose roles
allow it, calling the same services as the admin API (no rule is written twice).

Each section is a module adding its routes to ``bp``; ``SECTIONS`` drives the
navigation, which shows a section only to people whose roles allow its action.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from flask_babel import lazy_gettext as _l

bp = Blueprint("dashboard", __name__, url_prefix="/admin")

#: (list endpoint, action needed, label) of each section, in navigation order.
SECTIONS = (
    ("dashboard.invitations", "invitations.read", _l("Invitations")),
    ("dashboard.users", "users.read", _l("Users")),
    ("dashboard.groups", "users.read", _l("Groups and roles")),
    ("dashboard.clients", "clients.read", _l("Clients")),
    ("dashboard.outbox", "outbox.read", _l("Outbox")),
)


def dashboard_sections() -> list[tuple]:
    """The sections whose pages exist in this app."""
    return [s for s in SECTIONS if s[0] in current_app.view_functions]


def init_dashboard(app: Flask) -> None:
    """Import the page modules (they add their routes to ``bp``) and mount it."""
    from app.dashboard import (  # noqa: F401  (routes)
        clients,
        groups,
        home,
        invitation_detail,
        invitations_list,
        invite,
        invite_bulk,
        labels,
        outbox,
        user_actions,
        users,
    )
    from app.dashboard.access import may

    app.register_blueprint(bp)
    app.jinja_env.globals.update(may=may, dashboard_sections=dashboard_sections, labels=labels)
