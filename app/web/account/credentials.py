"""The password and email sections: both changes need the current password, counted
like sign-ins (per client address, and per email address by the back-off)."""

from __future__ import annotations

from flask import Response, g
from flask_babel import gettext as _

from app.accounts import verification
from app.accounts.credentials import change_password, request_email_change
from app.accounts.errors import AccountError
from app.accounts.throttle import TooManyFailures
from app.errors import DomainError
from app.extensions import limiter
from app.web.account import bp
from app.web.account.forms import EmailForm, PasswordForm
from app.web.account.limits import (
    sign_in_limit,
    signed_in_account,
    slowed_down_text,
    verification_client_limit,
    verification_limit,
)
from app.web.account.page import account_page, done, refused, signed_in
from app.web.refusals import refusal_text


@bp.post("/password")
@limiter.limit(sign_in_limit)
@signed_in
def password(browser):
    """Change the password; every other browser and application is signed out."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return account_page(browser, 400, password_form=form)
    try:
        change_password(
            browser.account, form.current_password.data, form.new_password.data, browser
        )
    except TooManyFailures as exc:
        return _slowed_down(browser, form, "current_password", exc, password_form=form)
    except AccountError as exc:
        status = refused(form, exc, {"password": "new_password"})
        return account_page(browser, status, password_form=form)
    return done(_("Your password is changed; you are signed out everywhere else."), "password")


@bp.post("/email")
@limiter.limit(sign_in_limit)
@signed_in
def email(browser):
    """Ask for a new email address: it is sent a link, and changes when it is opened."""
    form = EmailForm()
    if not form.validate_on_submit():
        return account_page(browser, 400, email_form=form)
    account = browser.account
    try:
        address = request_email_change(account, form.email_password.data, form.email.data, g.locale)
    except TooManyFailures as exc:
        return _slowed_down(browser, form, "email_password", exc, email_form=form)
    except AccountError as exc:
        status = refused(form, exc, {"current_password": "email_password"})
        return account_page(browser, status, email_form=form)
    message = _(
        "We sent a link to %(email)s. Open it to make it your email address.", email=address
    )
    return done(message, "email")


@bp.post("/email/resend")
@limiter.limit(verification_client_limit)
@limiter.limit(verification_limit, key_func=signed_in_account)
@signed_in
def resend_email_link(browser):
    """Send the email confirmation link again (earlier ones stop working)."""
    try:
        address = verification.resend(browser.account, g.locale)
    except DomainError as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("We sent a new link to %(email)s.", email=address), "email")


def _slowed_down(browser, form, field: str, exc: TooManyFailures, **forms) -> Response:
    form[field].errors = [slowed_down_text(exc.retry_after)]
    response = account_page(browser, 429, **forms)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
