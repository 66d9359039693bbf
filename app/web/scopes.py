"""What each scope gives a client, in words a person reads (the consent screen, the
account page's applications); other scopes are shown as named."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SCOPES = {
    "openid": _l("Your identity (a stable identifier)"),
    "profile": _l("Your name"),
    "email": _l("Your email address"),
    "phone": _l("Your phone number"),
    "offline_access": _l("Access while you are away"),
    "groups": _l("The groups you belong to"),
    "roles": _l("Your roles"),
}


def scope_label(scope: str) -> str:
    """The words for ``scope`` (its name when it has none)."""
    return str(SCOPES.get(scope, scope))
