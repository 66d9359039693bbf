"""How the dashboard names what the code names by key: invitation states and funnel
stages, events, outbox lanes, client types, sign-up modes and languages. Each name is
a lazy gettext string, translated in the page's language when shown; the templates
read them as ``labels``."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

STATES = {
    "initiated": _l("Initiated"),
    "reinitiated": _l("Resent"),
    "accepted": _l("Accepted"),
    "revoked": _l("Revoked"),
    "rejected": _l("Declined"),
    "expired": _l("Expired"),
}
#: The funnel's stages: every invitation, those still open, then how the others ended.
STAGES = {"invited": _l("Invited"), "pending": _l("Still open")} | {
    state: STATES[state] for state in ("accepted", "rejected", "revoked", "expired")
}
EVENTS = {
    "invitation.created": _l("Created"),
    "invitation.sent": _l("Message sent"),
    "invitation.resent": _l("Resent with a new link"),
    "invitation.accepted": _l("Accepted"),
    "invitation.revoked": _l("Revoked"),
    "invitation.rejected": _l("Declined"),
    "invitation.expired": _l("Expired"),
    "user.created": _l("Account created"),
    "user.login": _l("Signed in"),
    "user.updated": _l("Account updated"),
}
LANES = {"email": _l("Email"), "sms": _l("SMS"), "webhook": _l("Webhooks")}
AUTH_METHODS = {
    "client_secret_basic": _l(
        "Confidential: secret in the Authorization header (client_secret_basic)"
    ),
    "client_secret_post": _l("Confidential: secret in the request body (client_secret_post)"),
    "none": _l("Public: no secret, PKCE always (none)"),
}
#: A client's sign-up mode; "" follows the server's SIGNUP_MODE.
SIGNUP_MODES = {
    "": _l("Follow the server's setting"),
    "public": _l("Public: anyone may register"),
    "restricted": _l("Restricted: only with an invitation"),
    "closed": _l("Closed: no registration"),
}

#: A client's second-factor policy (issue 16), as the client pages say it.
MFA_POLICIES = {
    "off": _l("Off: only where a person's roles need it"),
    "optional": _l("Optional: for people who set it up"),
    "required": _l("Required: for everyone"),
}


def language(code: str) -> str:
    """A language's name in the page's language (Babel's CLDR data): "German", "Deutsch"."""
    try:
        name = Locale.parse(code).get_display_name(get_locale())
    except (ValueError, UnknownLocaleError):
        return code
    return name or code
