"""The dashboard's front door: the first section this person may use."""

from __future__ import annotations

from flask import g, redirect, url_for

from app.dashboard import bp, dashboard_sections
from app.dashboard.access import forbidden, may, requires


@bp.get("/")
@requires("invitations.read")
def home():
    """Every dashboard role may read invitations; the others see more sections."""
    for endpoint, action, _ in dashboard_sections():
        if may(action):
            return redirect(url_for(endpoint))
    return forbidden(g.dashboard_person)
