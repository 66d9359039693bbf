"""The sessions and applications sections: ending signed-in browsers, and taking
access away from an application."""

from __future__ import annotations

from flask import redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app.accounts import active_sessions, applications
from app.accounts.sessions import end_session
from app.errors import NotFound
from app.extensions import limiter
from app.web.account import bp
from app.web.account.limits import account_limit
from app.web.account.page import account_page, done, signed_in
from app.web.refusals import refusal_text


@bp.post("/sessions/<public_sid>/end")
@limiter.limit(account_limit)
@signed_in
def end_session_of(browser, public_sid: str):
    """Sign one browser out (this one: then to the signed-out page)."""
    if public_sid == browser.public_sid:
        end_session()
        return redirect(url_for("web.signed_out"), code=303)
    try:
        active_sessions.end_one(browser.account, public_sid)
    except NotFound as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("That browser is signed out."), "sessions")


@bp.post("/sessions/end-others")
@limiter.limit(account_limit)
@signed_in
def end_other_sessions(browser):
    """Sign out every other browser."""
    ended = active_sessions.end_others(browser.account, browser)
    message = ngettext(
        "%(num)d other browser is signed out.", "%(num)d other browsers are signed out.", ended
    )
    return done(message, "sessions")


@bp.post("/applications/<client_id>/revoke")
@limiter.limit(account_limit)
@signed_in
def revoke_application(browser, client_id: str):
    """Take access away from an application: its consent and tokens end."""
    try:
        name = applications.revoke(browser.account, client_id)
    except NotFound as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("%(name)s no longer has access to your account.", name=name), "applications")
