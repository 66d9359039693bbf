"""The profile section: names, configured registration fields, and the mobile number
with its SMS code."""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from app.accounts import phone_verification
from app.accounts.errors import AccountError
from app.accounts.fields import registration_fields
from app.accounts.profile import update_profile
from app.errors import DomainError
from app.extensions import limiter
from app.web.account import bp
from app.web.account.forms import PhoneCodeForm, profile_form
from app.web.account.limits import (
    account_limit,
    sign_in_limit,
    signed_in_account,
    verification_client_limit,
    verification_limit,
)
from app.web.account.page import account_page, done, refused, signed_in
from app.web.refusals import refusal_text


@bp.post("/profile")
@limiter.limit(account_limit)
@signed_in
def profile(browser):
    """Save the names, the mobile number and the configured fields."""
    specs = registration_fields()
    form = profile_form(specs, browser.account, submitted=True)
    if not form.validate_on_submit():
        return account_page(browser, 400, profile_form=form)
    try:
        changed = update_profile(browser.account, form.profile(specs))
    except AccountError as exc:
        return account_page(browser, refused(form, exc), profile_form=form)
    return done(_("Your profile is saved.") if changed else _("Nothing has changed."), "profile")


@bp.post("/phone/code")
@limiter.limit(verification_client_limit)
@limiter.limit(verification_limit, key_func=signed_in_account)
@signed_in
def send_phone_code(browser):
    """Text a code to the mobile number."""
    try:
        phone_verification.send_code(browser.account, g.locale)
    except DomainError as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    number = browser.account.phone_number
    return done(_("We sent a code to %(number)s by text message.", number=number), "profile")


@bp.post("/phone/verify")
@limiter.limit(sign_in_limit)
@signed_in
def verify_phone(browser):
    """Confirm the mobile number with the code it received."""
    form = PhoneCodeForm()
    if not form.validate_on_submit():
        return account_page(browser, 400, code_form=form)
    try:
        phone_verification.check_code(browser.account, form.code.data)
    except AccountError as exc:
        return account_page(browser, refused(form, exc), code_form=form)
    except DomainError as exc:
        return account_page(browser, exc.status, error=refusal_text(exc.description))
    return done(_("Your mobile number is confirmed."), "profile")
