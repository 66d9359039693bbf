"""The account page itself (issue 15): one page, a section per thing a person can see
or change, each section's form posting to its own view in this package. A refused form
comes back on the whole page with its errors (and a 4xx); a done one redirects (303)
to its section with a note."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps

from flask import Response, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from app.accounts import verification
from app.accounts.active_sessions import active_sessions
from app.accounts.applications import granted
from app.accounts.export import accepted_invitations
from app.accounts.fields import registration_fields
from app.accounts.passkeys import passkeys_of
from app.accounts.phone_verification import sms_available
from app.accounts.sessions import current_session
from app.accounts.validation import MIN_PASSWORD_LENGTH
from app.errors import DomainError
from app.models import BrowserSession
from app.web.account.forms import EmailForm, PasswordForm, PhoneCodeForm, profile_form
from app.web.i18n import set_locale
from app.web.mfa import two_step_section
from app.web.passkey_pages import AddPasskeyForm, allow_passkey_script
from app.web.refusals import refusal_text
from app.web.scopes import scope_label

#: Browser and system names looked for in a User-Agent, first match wins.
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"))
BROWSERS += (("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"))
SYSTEMS += (("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"))
SYSTEMS += (("Linux", "Linux"),)


def account_page(browser: BrowserSession, status: int = 200, error: str | None = None, **forms):
    """The whole page for this browser's person; ``forms`` replace the blank ones (a
    refused form keeps what was typed and says why)."""
    account = browser.account
    specs = registration_fields()
    blank = {
        "profile_form": profile_form(specs, account, submitted=False),
        "password_form": PasswordForm(formdata=None),
        "email_form": EmailForm(formdata=None),
        "code_form": PhoneCodeForm(formdata=None),
        "passkey_form": AddPasskeyForm(formdata=None),
    }
    allow_passkey_script()
    html = render_template(
        "web/account/page.html",
        account=account,
        this_session=browser,
        specs=specs,
        pending_email=verification.pending_email(account),
        sessions=active_sessions(account),
        applications=granted(account),
        invitations=accepted_invitations(account),
        sms=sms_available(),
        passkeys=passkeys_of(account),
        min_password=MIN_PASSWORD_LENGTH,
        browser_label=browser_label,
        scope_label=scope_label,
        error=error,
        two_step=two_step_section(account),
        **{**blank, **forms},
    )
    return make_response(html, status)


def done(message: str, section: str) -> Response:
    """Back to the page's ``section`` (303), saying ``message`` once."""
    flash(message)
    return redirect(url_for("web.account", _anchor=section), code=303)


def to_sign_in() -> Response:
    """Not signed in (any more): the sign-in page, leading back here."""
    return redirect(url_for("web.sign_in", next=url_for("web.account")), code=303)


def signed_in(view: Callable) -> Callable:
    """An account-page view of the person signed in here, in their language: it gets
    their BrowserSession first; a browser signed in as nobody goes to sign in."""

    @wraps(view)
    def wrapper(**kwargs):
        set_locale()
        browser = current_session()
        if browser is None:
            return to_sign_in()
        return view(browser, **kwargs)

    return wrapper


def refused(form, exc: DomainError, aliases: dict[str, str] | None = None) -> int:
    """Put a service's refusal on the form's field it names (``aliases`` maps the
    service's field names to the form's), else on the form; its status."""
    name = (aliases or {}).get(exc.extra.get("field"), exc.extra.get("field"))
    message = refusal_text(exc.description)
    if name in form:
        form[name].errors = [*form[name].errors, message]
    else:
        form.form_errors.append(message)
    return exc.status


def browser_label(user_agent: str | None) -> str:
    """ "Firefox · Linux" from a User-Agent; its first word when neither is known."""
    if not user_agent:
        return _("Unknown browser")
    names = [
        next((name for mark, name in table if mark in user_agent), None)
        for table in (BROWSERS, SYSTEMS)
    ]
    if any(names):
        return " · ".join(name for name in names if name)
    return re.split(r"[\s(]", user_agent.strip(), maxsplit=1)[0][:64] or _("Unknown browser")
