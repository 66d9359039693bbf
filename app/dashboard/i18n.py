"""The dashboard's page strings in English and German, added to the site's catalog
(app/web/i18n.py) under ``dash.*`` keys when the dashboard is mounted."""

from __future__ import annotations

from app.web.i18n import MESSAGES

DASHBOARD_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "dash.title": "Vestibule admin",
        "dash.sections": "Sections",
        "dash.invitations": "Invitations",
        "dash.users": "Users",
        "dash.groups": "Groups and roles",
        "dash.clients": "Clients",
        "dash.forbidden": "You cannot open this page",
        "dash.forbidden_hint": "You are signed in as {email}, and your roles do not include "
        "this part of the dashboard. Ask an administrator if you need it.",
        "dash.to_account": "Go to your account",
    },
    "de": {
        "dash.title": "Vestibule-Verwaltung",
        "dash.sections": "Bereiche",
        "dash.invitations": "Einladungen",
        "dash.users": "Benutzer",
        "dash.groups": "Gruppen und Rollen",
        "dash.clients": "Clients",
        "dash.forbidden": "Sie können diese Seite nicht öffnen",
        "dash.forbidden_hint": "Sie sind als {email} angemeldet, und Ihre Rollen umfassen "
        "diesen Teil der Verwaltung nicht. Fragen Sie eine Administratorin oder einen "
        "Administrator, wenn Sie ihn brauchen.",
        "dash.to_account": "Zu Ihrem Konto",
    },
}


def add_messages(strings: dict[str, dict[str, str]]) -> None:
    """Merge strings (``{"en": {...}, "de": {...}}``) into the site's catalog; each
    section module calls it with its own at import (idempotent)."""
    for lang, entries in strings.items():
        MESSAGES.setdefault(lang, {}).update(entries)


def register_messages() -> None:
    """The shell's own strings."""
    add_messages(DASHBOARD_MESSAGES)
