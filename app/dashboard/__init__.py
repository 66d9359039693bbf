"""The admin dashboard (spec §7.4): server-rendered pages for people whose roles
allow it, calling the same services as the admin API (no rule is written twice).

Each section is a module adding its routes to ``bp``; ``SECTIONS`` drives the
navigation, which shows a section only to people whose roles allow its action.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

bp = Blueprint("dashboard", __name__, url_prefix="/admin")

#: (list endpoint, action needed, label key) of each section, in navigation order.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("dashboard.invitations", "invitations.read", "dash.invitations"),
    ("dashboard.users", "users.read", "dash.users"),
    ("dashboard.groups", "users.read", "dash.groups"),
    ("dashboard.clients", "clients.read", "dash.clients"),
    ("dashboard.outbox", "outbox.read", "dash.outbox"),
)


def dashboard_sections() -> list[tuple[str, str, str]]:
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
        outbox,
        user_actions,
        users,
    )
    from app.dashboard.access import may
    from app.dashboard.i18n import register_messages

    register_messages()
    app.register_blueprint(bp)
    app.jinja_env.globals.update(may=may, dashboard_sections=dashboard_sections)
