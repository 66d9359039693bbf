"""The page an email verification link opens (issue 10).

Opening the link only shows the address and a button, and writes nothing (mail
scanners open links); the form's POST, with its CSRF token, marks the address
verified and spends the link. The POST is rate limited per client address like
sign-in.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.accounts import verification
from app.extensions import limiter
from app.models import PasswordToken
from app.web.forms import ConfirmEmailForm
from app.web.i18n import set_locale

bp = Blueprint("verification", __name__, url_prefix="/verify")


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


@bp.get("/email/<token>")
def email_page(token: str):
    """The button of a working link; a clear page for any other link."""
    set_locale()
    link = verification.find_usable(token)
    if link is None:
        return _unusable()
    return _page(token, link, ConfirmEmailForm())


@bp.post("/email/<token>")
@limiter.limit(_sign_in_limit)
def confirm_email(token: str):
    """Mark the address verified, spending the link."""
    set_locale()
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        link = verification.find_usable(token)
        return _page(token, link, form, status=400) if link else _unusable()
    try:
        account = verification.confirm(token)
    except verification.LinkUnusable:
        return _unusable()
    return render_template("web/email_verified.html", email=account.email)


def _page(token: str, link: PasswordToken, form: ConfirmEmailForm, status: int = 200):
    html = render_template(
        "web/verify_email.html", form=form, token=token, email=link.account.email
    )
    return html, status


def _unusable():
    return render_template("web/verify_link_unusable.html"), 410
