"""Browser pages: sign-in (standalone and for a paused request), "check your email"
and consent for a paused request, and the account page (its sections: app/web/account/)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import events
from app.accounts import passkeys
from app.accounts.authentication import authenticate
from app.accounts.sessions import browser_secret, current_account, current_session, start_session
from app.accounts.throttle import TooManyFailures
from app.extensions import limiter
from app.models import Account
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.security import allow_form_redirect_to
from app.web import join, mfa
from app.web.account.limits import (
    signed_in_account,
    slowed_down_text,
    verification_client_limit,
    verification_limit,
)
from app.web.account.page import account_page
from app.web.forms import ConsentForm, SignInForm
from app.web.i18n import set_locale
from app.web.passkey_pages import PasskeyAssertionForm, sign_in_failure, sign_in_page_context
from app.web.registration_context import in_interaction, set_context_locale
from app.web.registration_pages import expired_page, show
from app.web.resuming import resumed
from app.web.scopes import scope_label
from app.web.verification import check_email_page, resend_for

bp = Blueprint("web", __name__)


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


@bp.get("/")
def index():
    """Home: the account page when signed in, else the sign-in page."""
    return redirect(url_for("web.account" if current_account() else "web.sign_in"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    """Standalone sign-in, leading to ``next`` (a path on this site, e.g. a dashboard
    page) or the account page."""
    set_locale()
    form = SignInForm()
    target = local_path(request.args.get("next"))
    if form.validate_on_submit():
        account = _check_credentials(form)
        if account is not None:
            if mfa.hold_if_needed(account):
                return redirect(url_for("mfa.step", next=target), code=303)
            _start_signed_in_session(account)
            return redirect(target or url_for("web.account"), code=303)
    action = url_for("web.sign_in", next=target) if target else url_for("web.sign_in")
    return _standalone_sign_in_page(form, action, target), *_form_status(form)


def _standalone_sign_in_page(form: SignInForm, action: str, target: str | None, error=None):
    passkey = sign_in_page_context(url_for("web.sign_in_passkey", next=target), error)
    return render_template("web/sign_in.html", form=form, action=action, **passkey)


@bp.post("/login/passkey")
@limiter.limit(_sign_in_limit)
def sign_in_passkey():
    """Standalone sign-in with a passkey (issue 16), leading where ``/login`` does."""
    set_locale()
    target = local_path(request.args.get("next"))
    outcome = _check_passkey()
    if isinstance(outcome, str):
        action = url_for("web.sign_in", next=target) if target else url_for("web.sign_in")
        return _standalone_sign_in_page(SignInForm(formdata=None), action, target, outcome), 400
    _start_signed_in_session(*outcome)
    return redirect(target or url_for("web.account"), code=303)


def _check_passkey() -> tuple[Account, list[str]] | str:
    """The account the posted passkey answer proves and the session's ``amr``, or why
    not (shown on the sign-in page)."""
    form = PasskeyAssertionForm()
    if not form.validate_on_submit():
        return _("The passkey sign-in expired or was not sent from this site; please try again.")
    try:
        account, passkey = passkeys.authenticate(form.credential.data)
    except passkeys.PasskeyRefused as exc:
        return sign_in_failure(exc)
    return account, passkeys.amr_of(passkey)


def _check_credentials(form: SignInForm) -> Account | None:
    """The account the submitted email and password open; otherwise the form says why
    (and ``g.retry_after`` is set while that address is slowed down)."""
    try:
        account = authenticate(form.email.data, form.password.data)
    except TooManyFailures as exc:
        g.retry_after = exc.retry_after
        form.password.errors.append(slowed_down_text(exc.retry_after))
        return None
    if account is None:
        form.password.errors.append(_("That email and password do not match an account."))
    return account


def _form_status(form: SignInForm) -> tuple[int, dict[str, str]]:
    """200 for a fresh form, 400 with errors, 429 with Retry-After when slowed down."""
    if "retry_after" in g:
        return 429, {"Retry-After": str(g.retry_after)}
    return (400 if form.errors else 200), {}


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site (never another host: no open redirect)."""
    if not value or len(value) > 2048 or not value.startswith("/"):
        return None
    if value.startswith(("//", "/\\")) or any(c in value for c in "\\\r\n\t"):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def _start_signed_in_session(account: Account, amr: list[str] | None = None) -> None:
    """Record the sign-in (spec §6 ``user.login``); the session's commit keeps it."""
    events.record("user.login", f"account:{account.sub}", sub=account.sub)
    start_session(account, amr=amr)


@bp.get("/account")
def account():
    """The account page of the person signed in on this browser (app/web/account/)."""
    set_locale()
    browser = current_session()
    if browser is None:
        return redirect(url_for("web.sign_in"))
    return account_page(browser)


@bp.get("/signed-out")
def signed_out():
    """Shown after signing out when no client asked to be returned to."""
    set_locale()
    return render_template("web/signed_out.html")


@bp.get("/interaction/<uid>")
def interaction(uid: str):
    """The page a paused authorization request needs next: registration, sign-in or
    consent. An invitation's token comes in the query (the pause keeps its hash)."""
    found = resumed(uid)
    if isinstance(found, Response):
        return found
    return _render_step(found[1])


def _sign_in_step(uid: str):
    """The paused request ``uid`` of this browser and its step, when that step asks
    for a sign-in (LOGIN, REGISTER or JOIN), with the page's language set; else the
    answer to send instead (expired, refused, or back to the step it is at)."""
    found = resumed(uid, pauses.LOGIN, pauses.REGISTER, pauses.JOIN)
    if not isinstance(found, Response):
        _set_step_locale(found[1])
    return found


@bp.post("/interaction/<uid>/login")
@limiter.limit(_sign_in_limit)
def interaction_login(uid: str):
    """Sign in for a paused request, then continue it."""
    found = _sign_in_step(uid)
    if isinstance(found, Response):
        return found
    paused, outcome = found
    form = SignInForm()
    if form.validate_on_submit():
        account = _check_credentials(form)
        if account is not None:
            if mfa.hold_if_needed(account, uid, outcome.client, paused.params):
                return redirect(url_for("web.interaction", uid=uid), code=303)
            _start_signed_in_session(account)
            pauses.mark_signed_in(paused)
            return redirect(url_for("web.interaction", uid=uid), code=303)
    html, _ = _sign_in_page(outcome, form)
    return html, *_form_status(form)


@bp.post("/interaction/<uid>/passkey")
@limiter.limit(_sign_in_limit)
def interaction_passkey(uid: str):
    """Sign in with a passkey for a paused request (prompt=login included), then
    continue it, as a password sign-in does."""
    found = _sign_in_step(uid)
    if isinstance(found, Response):
        return found
    paused, outcome = found
    checked = _check_passkey()
    if isinstance(checked, str):
        return _sign_in_page(outcome, passkey_error=checked)[0], 400
    _start_signed_in_session(*checked)
    pauses.mark_signed_in(paused)
    return redirect(url_for("web.interaction", uid=uid), code=303)


@bp.post("/interaction/<uid>/verify-email")
@limiter.limit(verification_client_limit)
@limiter.limit(verification_limit, key_func=signed_in_account)
def interaction_resend(uid: str):
    """Send the email confirmation link again while a paused request waits for it."""
    found = resumed(uid, pauses.VERIFY_EMAIL)  # else verified meanwhile, or signed out
    if isinstance(found, Response):
        return found
    return resend_for(found[1])


@bp.post("/interaction/<uid>/consent")
def interaction_consent(uid: str):
    """Allow or deny a third-party client, then answer it."""
    paused = pauses.load(uid, browser_secret())
    browser = current_session()
    if paused is None or browser is None:
        return expired_page()
    form = ConsentForm()
    if not form.validate_on_submit():
        return expired_page()
    return authorization.decide(paused, browser, allow=bool(form.allow.data))


def _set_step_locale(step: authorization.Step) -> None:
    """The step's language; signing in from the registration page of an accepted
    invitation (its form carries ``invite_id``) keeps that page's language."""
    if step.name == pauses.JOIN:
        set_context_locale(join.step_context(step))
    elif step.name == pauses.REGISTER:
        set_context_locale(in_interaction(step, request.args.get("invite_id")))
    else:
        set_locale(step.ui_locales)


def _render_step(step: authorization.Step):
    if step.name == pauses.MFA or mfa.held_for(step):
        return mfa.interaction_page(step)
    if step.name == pauses.REGISTER:
        return show(in_interaction(step, request.args.get("invite_id")))
    if step.name == pauses.JOIN:
        return join.step_page(step)
    set_locale(step.ui_locales)
    if step.name == pauses.LOGIN:
        return _sign_in_page(step)
    if step.name == pauses.VERIFY_EMAIL:
        return check_email_page(step, current_account())
    allow_form_redirect_to(step.redirect_uri)
    action = url_for("web.interaction_consent", uid=step.interaction.uid)
    html = render_template(
        "web/consent.html",
        form=ConsentForm(),
        action=action,
        client=step.client,
        scopes=[scope_label(scope) for scope in step.scope.split()],
        account=current_account(),
    )
    return html


def _sign_in_page(
    step: authorization.Step,
    form: SignInForm | None = None,
    status: int = 200,
    passkey_error: str | None = None,
):
    if step.name == pauses.JOIN:  # the invitation's own sign-in page, with the errors
        return join.step_page(step, form)
    allow_form_redirect_to(step.redirect_uri)
    form = form or SignInForm(email=step.login_hint or None)
    action = url_for("web.interaction_login", uid=step.interaction.uid)
    passkey = sign_in_page_context(
        url_for("web.interaction_passkey", uid=step.interaction.uid), passkey_error
    )
    html = render_template(
        "web/sign_in.html", form=form, action=action, client=step.client, **passkey
    )
    return html, status
