"""Who may see which dashboard page: the admin API's role rules (spec §3.6), applied
to the person signed in on this browser."""

from __future__ import annotations

from functools import wraps

from flask import g, redirect, render_template, request, url_for

from app.accounts.sessions import current_account
from app.api.auth import ROLE_ACTIONS, person_may
from app.models import Account
from app.web.i18n import set_locale

#: The roles that open the dashboard at all.
DASHBOARD_ROLES = frozenset(ROLE_ACTIONS)


def may(action: str) -> bool:
    """Whether the signed-in person may perform ``action`` (for showing links)."""
    person = g.get("dashboard_person")
    return person is not None and person_may({r.name for r in person.roles}, action)


def requires(action: str):
    """Protect a page: sign in first; without a role allowing ``action``, a 403 page.

    Sets ``g.api_actor`` so the services' and the API helpers' rules (who may grant
    which role, who is recorded as the actor) see this person as the caller.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            set_locale()
            person = current_account()
            if person is None:
                return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))
            g.dashboard_person = person
            if not person_may({role.name for role in person.roles}, action):
                return forbidden(person)
            g.api_actor = actor(person)
            return view(*args, **kwargs)

        wrapped.required_action = action
        return wrapped

    return decorator


def actor(person: Account) -> str:
    """How events and ``invited_by`` name this person."""
    return f"account:{person.sub}"


def forbidden(person: Account):
    """The clear 403 page for a person without the needed role."""
    return render_template("dashboard/forbidden.html", person=person), 403
