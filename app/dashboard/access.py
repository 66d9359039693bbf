"""Who may see which dashboard page: the role rules (app/access.py, spec §3.6),
applied to the person signed in on this browser."""

from __future__ import annotations

from functools import wraps

from flask import g, redirect, render_template, request, url_for

from app.access import Caller, person_may
from app.accounts.sessions import current_session
from app.models import Account
from app.web.i18n import set_locale
from app.web.mfa import missing_on_own_pages


def may(action: str) -> bool:
    """Whether the signed-in person may perform ``action`` (for showing links)."""
    person = g.get("dashboard_person")
    return person is not None and person_may({r.name for r in person.roles}, action)


def requires(action: str):
    """Protect a page: sign in first (with a second factor when the person's roles or
    their own two-step sign-in need one); without a role allowing ``action``, a 403 page.

    Keeps the person in ``g.dashboard_person``: the page's caller (``caller()``,
    ``actor()``) and the navigation's ``may``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            set_locale()
            browser = current_session()
            here = request.full_path.rstrip("?")
            if browser is None:
                return redirect(url_for("web.sign_in", next=here))
            if missing := missing_on_own_pages(browser, here):
                return missing  # a second factor first (MFA_FOR_ADMIN_ROLES, issue 16)
            person = g.dashboard_person = browser.account
            if not person_may({role.name for role in person.roles}, action):
                return forbidden(person)
            return view(*args, **kwargs)

        wrapped.required_action = action
        return wrapped

    return decorator


def actor() -> str:
    """How events and ``invited_by`` name the signed-in person."""
    return f"account:{g.dashboard_person.sub}"


def caller() -> Caller:
    """The signed-in person, as the access rules take their caller."""
    return Caller(actor())


def forbidden(person: Account):
    """The clear 403 page for a person without the needed role."""
    return render_template("dashboard/forbidden.html", person=person), 403
