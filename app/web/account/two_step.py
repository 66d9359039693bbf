"""The "Two-step sign-in" section (issue 16): set up an authenticator app (QR code, the
secret as text, a first code), new recovery codes, and turning it off with the
password or a code. (Every page under /account first asks a sign-in lacking a second
factor it needs for one: app/web/mfa.py.)"""

from __future__ import annotations

from flask import Response, url_for
from flask_babel import gettext as _

from app.accounts import mfa_sign_in, totp
from app.accounts.credentials import check_password
from app.accounts.throttle import TooManyFailures
from app.errors import DomainError
from app.extensions import limiter
from app.web.account import bp
from app.web.account.limits import account_limit, sign_in_limit, slowed_down_text
from app.web.account.page import account_page, done, signed_in
from app.web.mfa import (
    browser_enrolment,
    confirm_browser_enrolment,
    forget_browser_enrolment,
    recovery_codes_page,
)
from app.web.mfa_forms import CodeForm, RemoveForm
from app.web.refusals import refusal_text

SECTION = "two-step"


@bp.post("/two-step/begin")
@limiter.limit(account_limit)
@signed_in
def two_step_begin(browser):
    """Start setting up an authenticator app: the section shows its QR code."""
    try:
        browser_enrolment(browser.account, begin=True)
    except DomainError as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("Add Vestibule to your authenticator app, then enter its code."), SECTION)


@bp.post("/two-step/confirm")
@limiter.limit(sign_in_limit)
@signed_in
def two_step_confirm(browser):
    """Finish setting up with a first code: the recovery codes, shown this once."""
    form = CodeForm()
    if not form.validate_on_submit():
        return account_page(browser, 400, two_step_form=form)
    try:
        codes = confirm_browser_enrolment(browser.account, form.code.data)
    except TooManyFailures as exc:
        return _slowed_down(browser, exc, two_step_form=form)
    except totp.CodeRefused as exc:
        form.code.errors = [refusal_text(exc.description)]
        return account_page(browser, exc.status, two_step_form=form)
    mfa_sign_in.strengthen(browser)  # the person just gave a code
    return recovery_codes_page(codes, url_for("web.account", _anchor=SECTION))


@bp.post("/two-step/cancel")
@limiter.limit(account_limit)
@signed_in
def two_step_cancel(browser):
    """Give up setting up an authenticator app (nothing was stored for it)."""
    forget_browser_enrolment()
    return done(_("Two-step sign-in was not set up."), SECTION)


@bp.post("/two-step/recovery-codes")
@limiter.limit(account_limit)
@signed_in
def two_step_recovery_codes(browser):
    """Ten new recovery codes; the earlier ones stop working."""
    try:
        codes = totp.new_recovery_codes(browser.account)
    except DomainError as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return recovery_codes_page(codes, url_for("web.account", _anchor=SECTION))


@bp.post("/two-step/remove")
@limiter.limit(sign_in_limit)
@signed_in
def two_step_remove(browser):
    """Turn two-step sign-in off, with the password or a code."""
    form = RemoveForm()
    if not form.validate_on_submit():
        return account_page(browser, 400, two_step_remove_form=form)
    try:
        _prove(browser.account, form)
    except TooManyFailures as exc:
        return _slowed_down(browser, exc, two_step_remove_form=form)
    except DomainError as exc:
        form.form_errors.append(refusal_text(exc.description))
        return account_page(browser, exc.status, two_step_remove_form=form)
    totp.remove(browser.account, f"account:{browser.account.sub}")
    return done(_("Two-step sign-in is off."), SECTION)


def _prove(account, form: RemoveForm) -> None:
    """The password (if typed), else the code; a refusal otherwise."""
    if form.password.data:
        check_password(account, form.password.data)
    elif form.code.data:
        totp.verify(account, form.code.data)
    else:
        raise totp.CodeRefused("enter your password or a code")


def _slowed_down(browser, exc: TooManyFailures, **forms) -> Response:
    for form in forms.values():
        form.form_errors.append(slowed_down_text(exc.retry_after))
    response = account_page(browser, 429, **forms)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
