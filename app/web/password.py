"""Password pages (spec §4): "forgot your password?" and the page a reset or
set-password link opens.

The forgot page answers every address alike, so it tells nobody which addresses have
accounts. Opening a link only reads (mail scanners open links); the link is spent by
the form's POST. Every form carries a CSRF token, and the POSTs are rate limited per
client address like sign-in; reset emails also per address asked for.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from app.accounts import password_links
from app.accounts.errors import AccountError
from app.accounts.validation import MIN_PASSWORD_LENGTH
from app.crypto import hash_secret
from app.extensions import limiter
from app.models import PasswordToken
from app.web.forms import ForgotPasswordForm, NewPasswordForm, SignInForm
from app.web.i18n import set_locale

bp = Blueprint("password", __name__, url_prefix="/password")
#: The flashed note that lets /password/changed say so (once, to this browser).
_CHANGED = "password_changed"


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["PASSWORD_RESET_ADDRESS_RATE_LIMIT"]


def _address_asked_for() -> str:
    """The rate-limit key of the submitted address (hashed: no addresses in Redis)."""
    return "reset:" + hash_secret(request.form.get("email", "").strip().lower())


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_address_limit, key_func=_address_asked_for, methods=["POST"])
def forgot():
    """Ask for a reset link; every address gets the same answer."""
    set_locale()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_links.request_reset(form.email.data, g.locale)
        return redirect(url_for("password.link_sent"), code=303)
    status = 400 if form.errors else 200
    return render_template("web/password_forgot.html", form=form), status


@bp.get("/forgot/sent")
def link_sent():
    """What everyone who asked for a link reads."""
    set_locale()
    return render_template("web/password_sent.html")


@bp.get("/reset/<token>")
def reset_page(token: str):
    """The form a working link opens; a clear page for any other link."""
    set_locale()
    link = password_links.find_usable(token)
    if link is None:
        return _unusable()
    return _form(token, link, NewPasswordForm())


@bp.post("/reset/<token>")
@limiter.limit(_sign_in_limit)
def reset(token: str):
    """Set the new password, spending the link, then offer sign-in."""
    set_locale()
    link = password_links.find_usable(token)
    if link is None:
        return _unusable()
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            password_links.use(token, form.password.data)
        except password_links.LinkUnusable:
            return _unusable()
        except AccountError:
            form.password.errors.append(
                _(
                    "Please choose a password of at least %(min)s characters.",
                    min=MIN_PASSWORD_LENGTH,
                )
            )
        else:
            flash(_CHANGED)
            return redirect(url_for("password.changed"), code=303)
    return _form(token, link, form, status=400)


@bp.get("/changed")
def changed():
    """After a new password: the sign-in form, saying what happened (once)."""
    set_locale()
    if _CHANGED not in get_flashed_messages():
        return redirect(url_for("web.sign_in"))
    html = render_template(
        "web/sign_in.html",
        form=SignInForm(),
        action=url_for("web.sign_in"),
        notice=_(
            "Your password was changed, and you were signed out everywhere. Sign in with "
            "your new password."
        ),
    )
    return html


def _form(token: str, link: PasswordToken, form: NewPasswordForm, status: int = 200):
    html = render_template(
        "web/password_reset.html",
        form=form,
        action=url_for("password.reset", token=token),
        purpose=link.purpose,
        email=link.account.email,
        min_password=MIN_PASSWORD_LENGTH,
    )
    return html, status


def _unusable():
    return render_template("web/password_link_unusable.html"), 410
