"""Email verification pages (issue 10, issue 15): the page a verification link opens,
and the "check your email" step of a paused authorization request.

Opening a link only shows the address and a button, and writes nothing (mail scanners
open links); the form's POST, with its CSRF token, marks the address verified and
spends the link. The POST is rate limited per client address like sign-in. When this
browser has a paused request waiting for the address (REQUIRE_VERIFIED_EMAIL), the
confirmed link leads straight back to it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from app.accounts import verification
from app.accounts.errors import AccountError
from app.accounts.sessions import browser_secret, current_account
from app.extensions import limiter
from app.models import Account, PasswordToken
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.web.forms import ConfirmEmailForm
from app.web.i18n import set_locale
from app.web.refusals import refusal_text

bp = Blueprint("verification", __name__, url_prefix="/verify")
#: The uid of the paused request this browser's "check your email" page belongs to.
_WAITING = "verify_email_for"


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
    """Mark the address verified, spending the link; then back to the paused request
    waiting for it in this browser, if any."""
    set_locale()
    form = ConfirmEmailForm()
    link = verification.find_usable(token)
    if not form.validate_on_submit():
        return _page(token, link, form, status=400) if link else _unusable()
    try:
        account = verification.confirm(token)
    except verification.LinkUnusable:
        return _unusable()
    except AccountError as exc:  # the new address was taken meanwhile
        form.form_errors.append(refusal_text(exc.description))
        return _page(token, link, form, status=exc.status)
    waiting = session.pop(_WAITING, None)
    if isinstance(waiting, str) and pauses.load(waiting, browser_secret()) is not None:
        return redirect(url_for("web.interaction", uid=waiting), code=303)
    signed_in = current_account() is not None
    return render_template("web/email_verified.html", email=account.email, signed_in=signed_in)


def check_email_page(step: authorization.Step, account: Account | None) -> str:
    """The paused request's "check your email" step: where the link went, a button to
    send it again, and the way on once the address is confirmed."""
    session[_WAITING] = step.interaction.uid
    address = None
    if account is not None:
        address = verification.pending_email(account) or account.email
    return render_template(
        "web/verify_check_email.html",
        address=address,
        client=step.client,
        uid=step.interaction.uid,
        notes=get_flashed_messages(),
        checked=request.args.get("checked") == "1",
    )


def resend_for(step: authorization.Step) -> Response:
    """Send the link again for the paused request, then show its page again."""
    set_locale(step.ui_locales)
    account = current_account()
    if account is not None:
        try:
            address = verification.resend(account, g.locale)
        except verification.NothingToVerify:
            pass  # verified meanwhile: the page carries on
        else:
            flash(_("We sent a new link to %(email)s.", email=address))
    return authorization.back_to(step.interaction)


def _page(token: str, link: PasswordToken, form: ConfirmEmailForm, status: int = 200):
    address = link.address or link.account.email
    html = render_template("web/verify_email.html", form=form, token=token, email=address)
    return html, status


def _unusable():
    return render_template("web/verify_link_unusable.html"), 410
