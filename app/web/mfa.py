"""The second-factor step (issue 16): "Enter the code from your authenticator app",
or, for a person who must and has none, setting one up (QR code, first code, recovery
codes shown once) before the sign-in goes on.

Two kinds of sign-in come here. A correct password that needs a second factor is held
(app/accounts/mfa_sign_in.py), so nobody is signed in until the code is given; a
session signed in with a password alone gains the second factor in place when a client
(``mfa``, ``acr_values``) or one of Vestibule's own pages (the account page, the
dashboard) asks for one. The step has a page of its own for the standalone sign-in
(``/login/second-factor?next=``) and is a step of a paused authorization request
(``/interaction/<uid>``, whose code form posts here).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from app.accounts import mfa_policy, mfa_sign_in, totp
from app.accounts.mfa_sign_in import PendingSignIn
from app.accounts.sessions import browser_secret, current_session
from app.accounts.throttle import TooManyFailures
from app.extensions import limiter
from app.models import Account, BrowserSession, Client
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.security import allow_form_redirect_to
from app.web.i18n import set_locale
from app.web.mfa_forms import CodeForm
from app.web.refusals import refusal_text
from app.web.registration_pages import expired_page

bp = Blueprint("mfa", __name__)

#: The authenticator this browser began to set up (totp.begin), its secret sealed for
#: the account: only the browser that saw a secret may confirm it, and nothing is
#: stored before it does.
_ENROLMENT = "totp_enrolment"


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


@dataclass(frozen=True)
class Subject:
    """Whose code the step asks for: a held password, or a password-only session."""

    account: Account
    held: PendingSignIn | None = None
    browser: BrowserSession | None = None


# -- where the step comes in --------------------------------------------------------------


def hold_if_needed(
    account: Account, uid: str | None = None, client: Client | None = None, params=None
) -> bool:
    """After a correct password: hold it for the second factor when this sign-in (for
    ``client`` and the request's ``params``; none: Vestibule's own pages) needs one."""
    acr_values = (params or {}).get("acr_values")
    client_mfa = client.mfa if client is not None else None
    needed = mfa_policy.second_factor_needed(account, [mfa_policy.PASSWORD], client_mfa, acr_values)
    if needed:
        mfa_sign_in.hold(account, uid)
    return needed


def missing_on_own_pages(browser: BrowserSession | None, next_path: str) -> Response | None:
    """The way to the step when ``browser``'s sign-in lacks a second factor that the
    account page and the dashboard need; None when nothing is missing."""
    if browser is None or not mfa_policy.second_factor_needed(browser.account, browser.amr):
        return None
    return redirect(url_for("mfa.step", next=next_path), code=303)


@bp.before_app_request
def account_pages_need_it() -> Response | None:
    """Nothing under /account (the page, its sections' forms, the passkeys') for a
    sign-in that lacks a second factor the account page needs."""
    if request.path == "/account" or request.path.startswith("/account/"):
        return missing_on_own_pages(current_session(), "/account")
    return None


def held_for(step: authorization.Step) -> bool:
    """Whether the paused request's sign-in is done but for the second factor (its
    step is then one that asks for a sign-in: nobody is signed in yet)."""
    return mfa_sign_in.pending(step.interaction.uid) is not None


# -- the standalone sign-in's step ---------------------------------------------------------


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def step():
    """The second factor of the standalone sign-in (or of a password-only session that
    a page of ours needs it for), leading on to ``next``."""
    from app.web.views import local_path  # the sign-in's views import this module

    set_locale()
    target = local_path(request.args.get("next")) or url_for("web.account")
    subject = _standalone_subject()
    if subject is None:
        browser = current_session()
        return redirect(target if browser else url_for("web.sign_in", next=target), code=303)
    form = CodeForm()
    if form.validate_on_submit():
        done = _give_code(subject, form)
        if isinstance(done, list):
            return recovery_codes_page(done, target)
        if done:
            return redirect(target, code=303)
    return _page(subject, url_for("mfa.step", next=target), form, target=target)


def _standalone_subject() -> Subject | None:
    held = mfa_sign_in.pending(None)
    if held is not None:
        return Subject(held.account, held=held)
    browser = current_session()
    if browser is None or not mfa_policy.second_factor_needed(browser.account, browser.amr):
        return None
    return Subject(browser.account, browser=browser)


@bp.post("/login/second-factor/cancel")
def cancel():
    """Give up a held sign-in (to sign in as someone else): back to the page ``to``
    (a path here), which asks for a sign-in again."""
    from app.web.views import local_path

    mfa_sign_in.forget()
    return redirect(local_path(request.args.get("to")) or url_for("web.sign_in"), code=303)


# -- the paused request's step -------------------------------------------------------------


@bp.post("/interaction/<uid>/second-factor")
@limiter.limit(_sign_in_limit)
def interaction_code(uid: str):
    """The second factor for a paused request, then the request goes on."""
    paused = pauses.load(uid, browser_secret())
    if paused is None:
        return expired_page()
    held = mfa_sign_in.pending(uid)
    outcome = authorization.resume(paused, None if held else current_session())
    if isinstance(outcome, Response):
        return outcome
    if not (held_for(outcome) or outcome.name == pauses.MFA):
        return authorization.back_to(paused)
    set_locale(outcome.ui_locales)
    form = CodeForm()
    if form.validate_on_submit():
        done = _give_code(_interaction_subject(held), form)
        if done and held is not None:
            pauses.mark_signed_in(paused)
        if isinstance(done, list):
            return recovery_codes_page(done, url_for("web.interaction", uid=uid))
        if done:
            return authorization.back_to(paused)
    return interaction_page(outcome, form)


def interaction_page(step: authorization.Step, form: CodeForm | None = None):
    """The step's page for a paused request (its sign-in is held, or its session needs
    the second factor)."""
    set_locale(step.ui_locales)
    allow_form_redirect_to(step.redirect_uri)
    held = mfa_sign_in.pending(step.interaction.uid)
    action = url_for("mfa.interaction_code", uid=step.interaction.uid)
    back = url_for("web.interaction", uid=step.interaction.uid)
    return _page(_interaction_subject(held), action, form, client=step.client, target=back)


def _interaction_subject(held: PendingSignIn | None) -> Subject:
    if held is not None:
        return Subject(held.account, held=held)
    browser = current_session()
    return Subject(browser.account, browser=browser)


# -- checking the code ---------------------------------------------------------------------


def _give_code(subject: Subject, form: CodeForm) -> list[str] | bool:
    """Check the code (a first one finishes setting up an authenticator) and sign in
    with it: True, or the new recovery codes; False with the form saying why."""
    codes: list[str] | bool = True
    try:
        if totp.authenticator(subject.account) is None:
            codes = confirm_browser_enrolment(subject.account, form.code.data)
        else:
            totp.verify(subject.account, form.code.data)
    except TooManyFailures as exc:
        # Imported here: the account page's package imports this module.
        from app.web.account.limits import slowed_down_text

        g.retry_after = exc.retry_after
        form.code.errors = [slowed_down_text(exc.retry_after)]
        return False
    except totp.CodeRefused as exc:
        form.code.errors = [refusal_text(exc.description)]
        return False
    if subject.held is not None:
        mfa_sign_in.complete(subject.held)
    else:
        mfa_sign_in.strengthen(subject.browser)
    return codes


def browser_enrolment(account: Account, begin: bool = False) -> totp.Enrolment | None:
    """The authenticator this browser is setting up for ``account``; with ``begin``, a
    new one when there is none (kept in the session; nothing is written)."""
    found = totp.enrolment(account, session.get(_ENROLMENT))
    if found is None and begin:
        found = totp.begin(account)
        session[_ENROLMENT] = found.sealed
    return found


def confirm_browser_enrolment(account: Account, code: str) -> list[str]:
    """Finish this browser's set-up with a first code (totp.confirm, whose refusals it
    lets through): the recovery codes. The set-up is forgotten once it is stored."""
    try:
        codes = totp.confirm(account, session.get(_ENROLMENT), code)
    except totp.AlreadyEnrolled:
        forget_browser_enrolment()  # another browser finished first
        raise
    forget_browser_enrolment()
    return codes


def forget_browser_enrolment() -> None:
    """Give up this browser's set-up (nothing was stored for it)."""
    session.pop(_ENROLMENT, None)


# -- pages ---------------------------------------------------------------------------------


def _page(subject: Subject, action: str, form: CodeForm | None, client=None, target=None):
    """The step's page: the code field, or setting up an authenticator first."""
    enrolled = totp.authenticator(subject.account) is not None
    enrolment = None if enrolled else browser_enrolment(subject.account, begin=True)
    html = render_template(
        "web/mfa/step.html",
        form=form or CodeForm(formdata=None),
        action=action,
        enrolment=enrolment,
        client=client,
        held=subject.held is not None,
        cancel_to=target,
    )
    return html, *_status(form)


def _status(form: CodeForm | None) -> tuple[int, dict[str, str]]:
    """200 for a fresh form, 400 with errors, 429 with Retry-After when slowed down."""
    if "retry_after" in g:
        return 429, {"Retry-After": str(g.retry_after)}
    return (400 if form is not None and form.errors else 200), {}


def recovery_codes_page(codes: list[str], continue_to: str) -> str:
    """The recovery codes, shown this once, and the way on."""
    return render_template("web/mfa/recovery_codes.html", codes=codes, continue_to=continue_to)


@dataclass(frozen=True)
class TwoStepSection:
    """What the account page's "Two-step sign-in" section shows."""

    enrolled: bool
    recovery_codes_left: int
    #: The authenticator this browser is setting up (QR code, secret), if any.
    enrolment: totp.Enrolment | None


def two_step_section(account: Account) -> TwoStepSection:
    """The account page's "Two-step sign-in" section for ``account`` on this browser."""
    if totp.authenticator(account) is not None:
        return TwoStepSection(True, totp.recovery_codes_left(account), None)
    return TwoStepSection(False, 0, browser_enrolment(account))
