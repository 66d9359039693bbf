"""Refusals shown on pages, in the page's language.

The services explain a refusal in English, once, for every caller: the admin API and
the CLI show that text as it is. Pages show it through the gettext catalog: each
message below is a service's wording with its variable parts named (``pybabel
extract`` finds them through ``N_``), and ``refusal_text`` finds the one a refusal
matches, translates it and fills the parts back in. tests/test_i18n.py scans the
services and fails on a refusal missing here.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it here."""
    return message


#: The services' refusals that pages can show, as the services word them.
SERVICE_MESSAGES = (
    # accounts
    N_("an email address is required"),
    N_("an email or a phone number is required"),
    N_("the email must be the invited address"),
    N_("phone_number must be an E.164 number such as +4915112345678"),
    N_("password must be at least %(min)s characters"),
    N_("password must be at most %(max)s characters"),
    N_("%(field)s must be a JSON object"),
    N_("%(field)s must be plain JSON"),
    N_("%(field)s: at most %(max)s bytes of JSON"),
    N_("%(field)s: at most %(max)s characters"),
    N_("unknown groups: %(names)s"),
    N_("unknown roles: %(names)s"),
    N_("an account with this email already exists"),
    N_("an account with this phone_number already exists"),
    N_("an account with this email or phone number already exists"),
    N_("no user %(sub)s"),
    N_("cannot change %(fields)s"),
    N_("you cannot disable your own account"),
    N_("names are 1 to 64 letters, digits, '-', '_', '.' or ':', not only dots"),
    N_("no group %(name)s"),
    N_("no role %(name)s"),
    N_("a group named %(name)s already exists"),
    N_("a role named %(name)s already exists"),
    N_("%(count)s account(s) still belong to the group %(name)s: remove them first"),
    N_("%(count)s account(s) still belong to the role %(name)s: remove them first"),
    N_("%(count)s pending invitation(s) grant the group %(name)s: revoke them first"),
    N_("%(count)s pending invitation(s) grant the role %(name)s: revoke them first"),
    N_("this account is disabled; enable it before issuing a link"),
    N_("this account has no email address; ask with notify=false"),
    N_("no %(key)s message in %(lang)s"),
    N_("this link has expired or was already used"),
    N_("this invitation is %(state)s"),
    N_("this invitation has just been used"),
    N_("this invitation has just been used or withdrawn"),
    N_("this invitation is for an existing account: sign in to accept it"),
    N_("this invitation is for another account"),
    # the account page and verification (issue 15)
    N_("the current password is not right"),
    N_("this is your email address already"),
    N_("this account has no email address"),
    N_("this email address is verified already"),
    N_("this account has no mobile number"),
    N_("this mobile number is verified already"),
    N_("text messages are not available on this server"),
    N_("this code no longer works; ask for a new one"),
    N_("this code is not the one we sent"),
    N_("this session has ended already"),
    N_("you have not let this application in"),
    N_("delete your own account on your account page"),
    # passkeys (issue 16)
    N_("the passkey request has expired; please try again"),
    N_("the passkey answer is malformed"),
    N_("the passkey answer is for another request; please try again"),
    N_("this passkey request was answered already; please try again"),
    N_("the passkey answer is missing or too long"),
    N_("the passkey could not be verified; please try again"),
    N_("give the passkey a name"),
    N_("the name is too long (at most 64 characters)"),
    N_("this passkey is registered already"),
    N_("this passkey is not registered here"),
    N_("this passkey could not be verified"),
    N_("no such passkey"),
    N_("this is your only way to sign in: add another passkey or set a password first"),
    N_("create the account with a password"),
    N_("create the account with a passkey"),
    # two-step sign-in (issue 16)
    N_("this code is not right; try the current one"),
    N_("two-step sign-in is set up already; remove it first"),
    N_("two-step sign-in is set up already"),
    N_("two-step sign-in is not set up"),
    N_("enter your password or a code"),
    # invitations
    N_("an email or a mobile_number is required"),
    N_("unknown template key %(key)s"),
    N_("needs an email to fix"),
    N_("needs an email to vouch for"),
    N_("an invitation granting the built-in role %(roles)s needs an email to bind to"),
    N_("at most %(max)s characters"),
    N_("must not contain NUL characters"),
    N_("unknown client %(client_id)s"),
    N_("the client has no initiate_login_uri registered"),
    N_("only for invitations without a client"),
    N_("not on the configured allow-list"),
    N_("must be a whole number of seconds"),
    N_("must be between %(min)s and %(max)s"),
    N_("must be an E.164 number such as +4915112345678"),
    N_("no %(key)s template in %(lang)s"),
    N_("a pending invitation for this address and client exists"),
    N_("this address already belongs to an account"),
    N_("needs the email of the account"),
    N_("no account has this email"),
    N_("the account with this email is disabled"),
    N_("this mobile number belongs to another account"),
    N_("expected join or nothing, not %(value)s"),
    N_("no invitation %(id)s"),
    N_("the invitation changed meanwhile; reload it"),
    N_("the invitation is %(state)s: %(action)s is not possible"),
    N_("unknown column(s) %(columns)s; expected some of: %(known)s"),
    N_("not a readable CSV file: %(reason)s"),
    N_("more values than columns"),
    N_("contains a NUL character"),
    N_("is not valid UTF-8"),
    N_("expected true or false, not %(value)s"),
    N_("not a whole number of seconds: %(value)s"),
    # clients
    N_("not an absolute http(s) URI without fragment: %(uri)s"),
    N_("http is only allowed for loopback hosts: %(uri)s"),
    N_("unknown scopes: %(scopes)s"),
    N_("scope: at most %(max)s characters"),
    N_("signup_mode must be one of %(modes)s or null, not %(mode)s"),
    N_("mfa must be one of %(modes)s, not %(mode)s"),
    N_("client_id must be 1 to 64 characters"),
    N_("client_id %(client_id)s is taken"),
    N_("a client needs a name of at most 128 characters"),
    N_("unknown auth method %(method)s"),
    N_("unsupported grant types: %(types)s"),
    N_("public clients cannot use client_credentials"),
    N_("public clients always require PKCE"),
    N_("public clients have no secret"),
    N_("no client %(client_id)s"),
    # who may do what (app/access.py), lists (app/pagination.py)
    N_("your roles do not allow granting or acting on %(roles)s"),
    N_("only an admin may mark an address verified"),
    N_("not a cursor from this server"),
    N_("not a place in this list"),
    N_("made for %(made_for)s, not %(list)s"),
    # the edges (app/errors.py, app/security.py) and the protocol (app/oauth/, Authlib)
    N_("The form expired or was not sent from this site; please try again."),
    N_("The request was not sent from this site."),
    N_("The form expired; please try again."),
    N_("The request is too large."),
    N_("Malformed authorization request."),
    N_("Something went wrong on our side."),
    N_("The client does not exist on this server."),
    N_("Missing 'client_id' parameter."),
    N_("Missing redirect_uri."),
    N_("The redirect_uri is not registered for this client."),
    N_("Unknown client_id."),
    N_("The post_logout_redirect_uri is not registered for this client."),
    N_("The id_token_hint is not an ID token issued here."),
    N_("The id_token_hint was not issued to this client."),
    # the playground's (app/playground/) that a person trying it meets; its other
    # checks diagnose a server for developers and stay in English
    N_(
        "This response does not belong to a sign-in started here (unknown or expired state). "
        "Please start again."
    ),
    N_("The authorization response has no iss parameter (RFC 9207)."),
    N_("The authorization response came from issuer %(iss)s, not %(issuer)s."),
    N_("The authorization response carries neither a code nor an error."),
)

#: Refusals worded by a library, not by us (email-validator explains a bad address in
#: its own English): pages show our message instead.
REWORDED = {
    "invalid email address: %(reason)s": N_(
        "This is not a valid email address. Please check it, e.g. name@example.com."
    ),
}


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each message as a regular expression matching the text it words, with the
    message to show for it."""
    shown = {message: message for message in SERVICE_MESSAGES} | REWORDED
    return tuple((_pattern(wording), message) for wording, message in shown.items())


def _pattern(wording: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", wording)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(regex, re.DOTALL)


def refusal_text(description: str) -> str:
    """``description`` (a service's refusal) in the page's language; a refusal "field:
    message" keeps its field name (an API or CSV name); unknown text is kept as it is."""
    description = str(description)
    translated = _translated(description)
    if translated is not None:
        return translated
    field, sep, rest = description.partition(": ")
    if sep and field.isidentifier() and (translated := _translated(rest)) is not None:
        return f"{field}: {translated}"
    return description


def _translated(text: str) -> str | None:
    for pattern, message in _patterns():
        match = pattern.fullmatch(text)
        if match is not None:
            return gettext(message, **match.groupdict())
    return None
