"""The sessions and applications sections: ending signed-in browsers, and taking
access away from an application."""

from __future__ import annotations

from flask import redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app.accounts import active_sessions, applications
from app.accounts.sessions import current_session, end_session
from app.errors import NotFound
from app.extensions import limiter
from app.web.account import bp
from app.web.account.limits import account_limit
from app.web.account.page import account_page, done, to_sign_in
from app.web.i18n import set_locale
from app.web.refusals import refusal_text


@bp.post("/sessions/<public_sid>/end")
@limiter.limit(account_limit)
def end_session_of(public_sid: str):
    """Sign one browser out (this one: then to the signed-out page)."""
    set_locale()
    browser = current_session()
    if browser is None:
        return to_sign_in()
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
def end_other_sessions():
    """Sign out every other browser."""
    set_locale()
    browser = current_session()
    if browser is None:
        return to_sign_in()
    ended = active_sessions.end_others(browser.account, browser)
    message = ngettext(
        "%(num)d other browser is signed out.", "%(num)d other browsers are signed out.", ended
    )
    return done(message, "sessions")


@bp.post("/applications/<client_id>/revoke")
@limiter.limit(account_limit)
def revoke_application(client_id: str):
    """Take access away from an application: its consent and tokens end."""
    set_locale()
    browser = current_session()
    if browser is None:
        return to_sign_in()
    try:
        name = applications.revoke(browser.account, client_id)
    except NotFound as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("%(name)s no longer has access to your account.", name=name), "applications")
