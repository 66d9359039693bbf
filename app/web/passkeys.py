"""Passkeys on the pages (issue 16): the options the script asks for before each
ceremony, and the account page's passkey section (add, rename, remove).

Signing in with a passkey posts to the sign-in views (app/web/views.py), creating an
account with one to the registration form; app/web/passkey_pages.py gives those pages
what they need.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.accounts import passkeys
from app.accounts.sessions import current_session
from app.errors import DomainError
from app.extensions import limiter
from app.web.account.limits import account_limit
from app.web.account.page import account_page, done, refused, signed_in
from app.web.passkey_pages import AddPasskeyForm, RenamePasskeyForm, registration_credentials
from app.web.refusals import refusal_text
from app.web.registration_submit import FORM_EXPIRED

bp = Blueprint("passkeys", __name__)


def _options(body: str):
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/passkeys/authentication-options")
@limiter.limit(account_limit)  # every sign-in page asks once (conditional UI)
def authentication_options():
    """Options for signing in with a passkey (any of the browser's for this site)."""
    return _options(passkeys.authentication_options())


@bp.post("/passkeys/registration-options")
@limiter.limit(account_limit)
def registration_options():
    """Options for creating an account with a passkey on the registration page."""
    if registration_credentials() == "password":
        return jsonify(error="passkeys_off", error_description="Passkeys are not offered."), 404
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    user_name = _text(body.get("user_name")) or _("New account")
    display_name = _text(body.get("display_name")) or user_name
    return _options(passkeys.registration_options(user_name, display_name, None))


def _text(value) -> str:
    return " ".join(value.split())[:256] if isinstance(value, str) else ""


@bp.post("/account/passkeys/options")
@limiter.limit(account_limit)
def account_registration_options():
    """Options for adding a passkey to the signed-in account."""
    browser = current_session()
    if browser is None:
        return jsonify(error="login_required", error_description="Sign in first."), 401
    account = browser.account
    user_name = account.email or account.phone_number or account.sub
    return _options(passkeys.registration_options(user_name, account.name, account))


@bp.post("/account/passkeys")
@limiter.limit(account_limit)
@signed_in
def add(browser):
    """Store the passkey the browser just made, under the name given."""
    form = AddPasskeyForm()
    if not form.validate_on_submit():
        return account_page(browser, 400, passkey_form=form)
    try:
        passkeys.add(browser.account, form.credential.data, form.name.data)
    except DomainError as exc:
        return account_page(browser, refused(form, exc), passkey_form=form)
    return done(_("Your passkey is added."), "passkeys")


@bp.post("/account/passkeys/<int:passkey_id>/rename")
@limiter.limit(account_limit)
@signed_in
def rename(browser, passkey_id: int):
    """Give a passkey another name."""
    form = RenamePasskeyForm()
    if not form.validate_on_submit():
        message = "; ".join(e for errors in form.errors.values() for e in errors)
        return account_page(browser, 400, error=message)
    try:
        passkeys.rename(browser.account, passkey_id, form.name.data)
    except DomainError as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("The passkey is renamed."), "passkeys")


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@limiter.limit(account_limit)
@signed_in
def remove(browser, passkey_id: int):
    """Remove a passkey (never the only way a person has to sign in)."""
    if not FlaskForm().validate_on_submit():
        return account_page(browser, 400, error=str(FORM_EXPIRED))
    try:
        passkeys.remove(browser.account, passkey_id)
    except DomainError as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("The passkey is removed."), "passkeys")
