"""Registration pages and ``POST /registration`` (spec §2 steps 5–7, §3.4, §3.5).

A registration happens either inside a paused authorization request (the client
sent ``invite_id``, ``view_type=register`` or ``prompt=create`` to ``/authorize``)
or on the hosted page ``/register`` (client-less invitations, self-service without a
client). Both show the same form and post to ``/registration``: the invitation token
in the query (``?invite_id=``) or an ``Invite-Id`` header (``invite_id`` works too, but
proxies such as nginx and gunicorn drop header names with underscores), the paused request in
``?interaction=``. Browser forms carry a CSRF token; JSON bodies (custom UIs) are
answered in JSON with the URL to continue at.

Opening any of these pages reads and never writes: an invitation is consumed only
by a successful registration, and declined only by the decline button.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from app.accounts import registration
from app.accounts.errors import AccountError
from app.accounts.fields import registration_fields
from app.accounts.sessions import browser_secret, current_session, start_session
from app.accounts.validation import MIN_PASSWORD_LENGTH
from app.errors import DomainError
from app.extensions import csrf, limiter
from app.invitations import links
from app.invitations import service as invitations
from app.models import Client, Interaction, Invitation
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.security import allow_form_redirect_to, refuse_cross_site_request
from app.web.forms import JsonBodyError, RegistrationForm, SignInForm, registration_form
from app.web.i18n import set_locale, translate

bp = Blueprint("registration", __name__)

#: Message key (its explanation is ``<key>_hint``) and status for each refusal.
REFUSALS: dict[str, tuple[str, int]] = {
    "signup_closed": ("signup_closed", 403),
    "signup_restricted": ("signup_restricted", 403),
    "invite_unknown": ("invite_link_invalid", 404),
    "invite_other_client": ("invite_other_client", 400),
    "invite_expired": ("invite_expired", 410),
    "invite_revoked": ("invite_revoked", 410),
    "invite_rejected": ("invite_rejected", 410),
    "invite_accepted": ("invite_accepted", 409),
}
#: Refusals after which self-service registration may be offered instead.
INVITATION_UNUSABLE = {"invite_unknown", "invite_expired", "invite_revoked", "invite_rejected"}


class Failure(Exception):
    """A refused registration request, shown as a page or a JSON error.

    ``continue_url`` is where the person can carry on, if anywhere: after losing a
    race for the invitation (or submitting twice), the paused request, which then
    asks them to sign in.
    """

    def __init__(self, status: int, code: str, description: str, continue_url: str | None = None):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description
        self.continue_url = continue_url


@dataclass
class Context:
    """Where this registration happens and with which invitation."""

    token: str | None
    invitation: Invitation | None
    #: An invitation token was part of the request (even one that matches nothing).
    token_sent: bool
    step: authorization.Step | None = None

    @property
    def interaction(self) -> Interaction | None:
        return self.step.interaction if self.step else None

    @property
    def client(self) -> Client | None:
        return self.step.client if self.step else None

    def refusal(self) -> str | None:
        return registration.refusal(self.client, self.invitation, self.token_sent)

    def query(self) -> dict[str, str]:
        """The query that names this context in the form actions."""
        values = {"interaction": self.interaction.uid} if self.interaction else {}
        if self.token:
            values["invite_id"] = self.token
        return values


def in_interaction(step: authorization.Step, token: str | None) -> Context:
    """The context of a paused request; ``token`` must be the invitation it started with."""
    started_with_invitation = pauses.INVITE_HASH in step.interaction.params
    matches = pauses.invitation_token_matches(step.interaction, token)
    invitation = invitations.find_by_token(token) if matches else None
    return Context(
        token=token if matches else None,
        invitation=invitation,
        token_sent=started_with_invitation or bool(token),
        step=step,
    )


def hosted(token: str | None) -> Context:
    """The context of the hosted page (no client)."""
    invitation = invitations.find_by_token(token) if token else None
    return Context(token=token, invitation=invitation, token_sent=bool(token))


# -- pages -----------------------------------------------------------------------------


def show(ctx: Context, form: RegistrationForm | None = None, status: int = 200):
    """The registration form, or the page that explains why there is none."""
    ui_locales = ctx.step.ui_locales if ctx.step else ""
    set_locale(" ".join(filter(None, [ui_locales, getattr(ctx.invitation, "lang", None)])))
    reason = ctx.refusal()
    if reason == "invite_accepted" and ctx.interaction is not None:
        if _signed_in_as_invitee(ctx):
            # The invitee, signed in here, opened the link again: one button carries on
            # (a POST: opening the page changes nothing, not even the paused request).
            return _refusal_page(ctx, reason)
        return _sign_in_instead_page(ctx)
    if reason is not None:
        return _refusal_page(ctx, reason)
    _allow_continuing(ctx)
    specs = registration_fields()
    form = form or registration_form(specs, **_prefill(ctx))
    html = render_template(
        "web/register.html",
        form=form,
        specs=specs,
        ctx=ctx,
        email_locked=bool(ctx.invitation and ctx.invitation.allow_same_email),
        min_password=MIN_PASSWORD_LENGTH,
        action=url_for("registration.submit", **ctx.query()),
        decline_action=url_for("registration.decline", **ctx.query()),
    )
    return html, status


def _signed_in_as_invitee(ctx: Context) -> bool:
    browser = current_session()
    return browser is not None and browser.account.sub == ctx.invitation.accepted_sub


def _prefill(ctx: Context) -> dict:
    invitation = ctx.invitation
    if invitation is None:
        hint = ctx.step.login_hint if ctx.step else ""
        return {"email": hint} if "@" in hint else {}
    return {
        "email": invitation.email,
        "phone_number": invitation.mobile_number,
        "given_name": invitation.given_name,
        "family_name": invitation.family_name,
        **{k: v for k, v in invitation.custom_fields.items() if isinstance(v, str | int | bool)},
    }


def _sign_in_instead_page(ctx: Context):
    """An accepted invitation opened again: sign in to continue the same request."""
    _allow_continuing(ctx)
    email = ctx.invitation.email if ctx.invitation else None
    html = render_template(
        "web/sign_in.html",
        form=SignInForm(email=email),
        action=url_for("web.interaction_login", uid=ctx.interaction.uid),
        client=ctx.client,
        notice=translate("invite_accepted_hint"),
    )
    return html, 200


def _refusal_page(ctx: Context, reason: str):
    key, status = REFUSALS[reason]
    offer_registration = reason in INVITATION_UNUSABLE and (
        registration.may_register_without_invitation(ctx.client)
    )
    html = render_template(
        "web/registration_refused.html",
        key=key,
        ctx=ctx,
        offer_registration=offer_registration,
        offer_sign_in=reason != "invite_other_client",
    )
    return html, status


def _allow_continuing(ctx: Context) -> None:
    """The forms on this page may lead on (through redirects) to where the person goes next."""
    if ctx.step is not None:
        allow_form_redirect_to(ctx.step.redirect_uri)
    elif ctx.invitation is not None and ctx.invitation.redirect_url:
        allow_form_redirect_to(ctx.invitation.redirect_url)


@bp.get("/register")
def hosted_page():
    """Hosted registration: client-less invitations, or self-service without a client."""
    return show(hosted(request.args.get("invite_id")))


@bp.post("/interaction/<uid>/view")
def switch_view(uid: str):
    """From the registration page: sign in instead, or register without the invitation."""
    paused = pauses.load(uid, browser_secret())
    if paused is None:
        return expired_page()
    outcome = authorization.resume(paused, current_session())
    if isinstance(outcome, Response):
        return outcome
    if outcome.name != pauses.REGISTER:  # the choice is offered on the registration page only
        return authorization.back_to(paused)
    if request.form.get("view") == "register":
        if not registration.may_register_without_invitation(pauses.client_of(paused)):
            return expired_page()
        pauses.register_without_invitation(paused)
    else:
        pauses.sign_in_instead(paused)
    return redirect(url_for("web.interaction", uid=uid), code=303)


def expired_page():
    """The paused request is gone: expired, finished, or started in another browser."""
    set_locale()
    return render_template("web/expired.html"), 400


# -- submitting ------------------------------------------------------------------------


def _registration_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


@bp.post("/registration")
@csrf.exempt  # checked in _check_csrf: forms carry a token, JSON cannot come cross-site
@limiter.limit(_registration_limit)
def submit():
    """Create the account, accept the invitation, sign in, and continue."""
    as_json = request.is_json
    try:
        ctx = _submitted_context(as_json)
        if isinstance(ctx, Response):
            return ctx
        return _register(ctx, as_json)
    except Failure as failure:
        return _failure_response(failure, as_json)


@bp.post("/registration/decline")
@csrf.exempt  # as above
@limiter.limit(_registration_limit)
def decline():
    """The invited person declines: the invitation becomes ``rejected``."""
    as_json = request.is_json
    try:
        ctx = _submitted_context(as_json)
        if isinstance(ctx, Response):
            return ctx
        if ctx.invitation is None or ctx.refusal() is not None:
            raise _refused(ctx)
        try:
            registration.decline(ctx.invitation)
        except DomainError as exc:
            raise Failure(exc.status, exc.code, exc.description) from None
    except Failure as failure:
        return _failure_response(failure, as_json)
    if ctx.interaction is not None:
        response = authorization.deny(ctx.interaction)
        return jsonify(continue_url=response.location) if as_json else response
    if as_json:
        return jsonify(state="rejected")
    set_locale(ctx.invitation.lang)
    return render_template("web/invitation_link.html", key="invite_declined"), 200


def _submitted_context(as_json: bool) -> Context | Response:
    token = request.args.get("invite_id") or request.headers.get("invite_id")
    uid = request.args.get("interaction")
    if uid is None:
        _check_csrf(as_json)
        return hosted(token)
    paused = pauses.load(uid, browser_secret())
    already = Failure(409, "already_registered", _text("already_registered"), _resume_url(uid))
    if paused is not None and paused.login_at is not None:
        # Registered (or signed in) for it already, e.g. the form sent again with the
        # back button: saying so changes nothing, so it needs no CSRF token (signing
        # in renewed the session's, which the old page still carries).
        raise already
    _check_csrf(as_json)
    if paused is None:
        raise Failure(400, "interaction_expired", _text("expired"))
    outcome = authorization.resume(paused, current_session())
    if isinstance(outcome, Response):
        return outcome  # the stored request is no longer valid: the client hears why
    if outcome.name != pauses.REGISTER:  # the person chose to sign in instead
        raise already
    return in_interaction(outcome, token)


def _resume_url(uid: str, token: str | None = None) -> str:
    query = {"invite_id": token} if token else {}
    return _public_url("web.interaction", uid=uid, **query)


def _check_csrf(as_json: bool) -> None:
    if as_json:
        origin = request.headers.get("Origin")
        try:
            refuse_cross_site_request()
        except CSRFError:
            origin = "cross-site"
        if origin and origin != _origin(current_app.config["ISSUER"]):
            raise Failure(403, "invalid_origin", "JSON registrations must come from this site.")
        return
    try:
        refuse_cross_site_request()
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        raise Failure(400, "csrf_failed", _text("form_expired")) from None


def _public_url(endpoint: str, **values) -> str:
    """An absolute URL on this server as the world reaches it: the issuer's origin, not
    the Host the request came in with (a proxy set up with too few PROXY_FIX_HOPS would
    otherwise send the person to the app server's own address)."""
    return _origin(current_app.config["ISSUER"]) + url_for(endpoint, **values)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _register(ctx: Context, as_json: bool):
    if ctx.refusal() is not None:
        raise _refused(ctx)
    specs = registration_fields()
    form = _filled_form(specs, as_json)
    if not form.validate():
        return _invalid(ctx, form, as_json)
    data = registration.Registration(
        password=form.password.data,
        email=form.email.data or None,
        phone_number=form.phone_number.data or None,
        given_name=form.given_name.data or None,
        family_name=form.family_name.data or None,
        custom_fields=form.custom_values(specs),
    )
    try:
        if ctx.invitation is not None:
            account = registration.register_invited(ctx.invitation, data)
        else:
            account = registration.register_self(data)
    except AccountError as exc:
        name = exc.extra.get("field")
        if name in form:
            form[name].errors = [exc.description]
        else:
            form.form_errors.append(exc.description)
        return _invalid(ctx, form, as_json, status=exc.status, code=exc.code)
    except registration.InvitationUnusable as exc:
        # Lost a race, perhaps to this very browser's first click: the paused request
        # now offers sign-in (or carries on, once the winner has signed this browser in).
        raise Failure(
            exc.status, exc.code, _text("invite_just_used"), _continue_after(ctx)
        ) from None
    start_session(account)
    target = _continue_url(ctx)
    if as_json:
        return jsonify(sub=account.sub, continue_url=target), 201
    _allow_continuing(ctx)
    return redirect(target, code=303)


def _filled_form(specs, as_json: bool) -> RegistrationForm:
    if not as_json:
        return registration_form(specs, formdata=request.form)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Failure(400, "invalid_request", "The body must be a JSON object.")
    try:
        return registration_form(specs, json_body=body)
    except JsonBodyError as exc:
        raise Failure(400, "invalid_request", str(exc)) from None


def _continue_url(ctx: Context) -> str:
    """Where the person goes once registered: the paused request, or after hosted
    registration the invitation's (allow-listed) redirect_url or the account page."""
    if ctx.interaction is not None:
        pauses.mark_signed_in(ctx.interaction)
        return _public_url("web.interaction", uid=ctx.interaction.uid)
    redirect_url = ctx.invitation.redirect_url if ctx.invitation else None
    if redirect_url and links.redirect_allowed(redirect_url):
        return redirect_url
    return _public_url("web.account")


def _invalid(ctx, form, as_json, status: int = 400, code: str = "invalid_request"):
    errors = form.error_messages()
    if as_json:
        first = next(iter(errors.values()))[0]
        name = next(iter(errors))
        body = {"error": code, "error_description": f"{name}: {first}", "errors": errors}
        return jsonify(body), status
    return show(ctx, form, status=status)


def _refused(ctx: Context) -> Failure:
    reason = ctx.refusal() or "invite_unknown"
    key, status = REFUSALS[reason]
    after = _continue_after(ctx) if reason == "invite_accepted" else None
    return Failure(status, reason, _text(key), after)


def _continue_after(ctx: Context) -> str:
    if ctx.interaction is not None:
        return _resume_url(ctx.interaction.uid, ctx.token)
    return _public_url("web.sign_in")


def _failure_response(failure: Failure, as_json: bool):
    if as_json:
        body = {"error": failure.code, "error_description": failure.description}
        if failure.continue_url:
            body["continue_url"] = failure.continue_url
        return jsonify(body), failure.status
    set_locale()
    html = render_template(
        "web/registration_failed.html",
        description=failure.description,
        continue_url=failure.continue_url,
    )
    return html, failure.status


def _text(key: str) -> str:
    set_locale()
    return translate(key)
