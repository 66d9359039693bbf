"""Submitting the registration form or declining the invitation (spec §2 steps 6-7,
§3.5): the context named by the query (``?interaction=``, ``?invite_id=`` or an
``Invite-Id`` header), the CSRF check (a token for forms, Fetch Metadata and Origin for
JSON), the account created with the invitation accepted, and the answer: a redirect
or a page for browsers, JSON with the URL to continue at for custom UIs."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from app.accounts import passkeys, registration
from app.accounts.errors import AccountError
from app.accounts.fields import registration_fields
from app.accounts.sessions import browser_secret, current_session, start_session
from app.invitations import links
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.security import refuse_cross_site_request
from app.web.forms import JsonBodyError, RegistrationForm, registration_form
from app.web.i18n import set_locale
from app.web.passkey_pages import passkey_name, submitted_passkey, verified_passkey
from app.web.refusals import refusal_text
from app.web.registration_context import (
    EXPLANATIONS,
    REFUSALS,
    Context,
    hosted,
    in_interaction,
    set_context_locale,
)
from app.web.registration_pages import allow_continuing, show

ALREADY_REGISTERED = _l(
    "An account was already created in this sign-in request. Continue to carry on with it."
)
EXPIRED = _l(
    "This sign-in request has expired or belongs to another browser. Please go back to the "
    "application and try again."
)
FORM_EXPIRED = _l(
    "The form expired or was not sent from this site; please reload the page and try again."
)
FOR_EXISTING_ACCOUNT = _l(
    "This invitation is for a person who already has an account: sign in to accept it."
)
INVITATION_JUST_USED = _l(
    "This invitation has just been used to create an account. If that was you, sign in."
)


class Failure(Exception):
    """A refused registration request, shown as a page or a JSON error.

    ``description`` is translated when shown (a lazy string: the page's language may
    be chosen after the Failure is made). ``continue_url`` is where the person can
    carry on, if anywhere: after losing a race for the invitation (or submitting
    twice), the paused request, which then asks them to sign in.
    """

    def __init__(self, status: int, code: str, description, continue_url: str | None = None):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description
        self.continue_url = continue_url


def submitted_context(as_json: bool) -> Context | Response:
    """The context the submission names, CSRF-checked; a Response when the paused
    request is no longer valid (the client hears why)."""
    token = request.args.get("invite_id") or request.headers.get("invite_id")
    uid = request.args.get("interaction")
    set_locale()  # the browser's, until the context is known
    if uid is None:
        check_csrf(as_json)
        return hosted(token)
    paused = pauses.load(uid, browser_secret())
    if paused is not None:
        set_locale(paused.params.get("ui_locales"))
    already = Failure(409, "already_registered", ALREADY_REGISTERED, _resume_url(uid))
    if paused is not None and paused.login_at is not None:
        # Registered (or signed in) for it already, e.g. the form sent again with the
        # back button: saying so changes nothing, so it needs no CSRF token (signing
        # in renewed the session's, which the old page still carries).
        raise already
    check_csrf(as_json)
    if paused is None:
        raise Failure(400, "interaction_expired", EXPIRED)
    outcome = authorization.resume(paused, current_session())
    if isinstance(outcome, Response):
        return outcome  # the stored request is no longer valid: the client hears why
    if outcome.name == pauses.JOIN:
        raise Failure(409, "invitation_unusable", FOR_EXISTING_ACCOUNT, _resume_url(uid, token))
    if outcome.name != pauses.REGISTER:  # the person chose to sign in instead
        raise already
    return in_interaction(outcome, token)


def _resume_url(uid: str, token: str | None = None) -> str:
    query = {"invite_id": token} if token else {}
    return _public_url("web.interaction", uid=uid, **query)


def check_csrf(as_json: bool) -> None:
    """Failure unless the request comes from this site: a CSRF token for forms, Fetch
    Metadata and Origin for JSON (which carries no token)."""
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
        raise Failure(400, "csrf_failed", FORM_EXPIRED) from None


def _public_url(endpoint: str, **values) -> str:
    """An absolute URL on this server as the world reaches it: the issuer's origin, not
    the Host the request came in with (a proxy set up with too few PROXY_FIX_HOPS would
    otherwise send the person to the app server's own address)."""
    return _origin(current_app.config["ISSUER"]) + url_for(endpoint, **values)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def register(ctx: Context, as_json: bool):
    """Create the account (accepting the invitation), sign in, and answer with where to
    continue; the form again (or JSON errors) when the input is refused."""
    set_context_locale(ctx)
    if ctx.refusal() is not None:
        raise refused(ctx)
    if ctx.invitation is not None and ctx.invitation.existing_account:
        hosted_page = _public_url("registration.hosted_page", invite_id=ctx.token)
        raise Failure(409, "invitation_unusable", FOR_EXISTING_ACCOUNT, hosted_page)
    specs = registration_fields()
    form = _filled_form(specs, as_json)
    credential = None if as_json else submitted_passkey(form)
    if not form.validate():
        return _invalid(ctx, form, as_json)
    data = _registration(form, specs, with_password=credential is None)
    try:
        data.passkey = verified_passkey(credential)
        if ctx.invitation is not None:
            account = registration.register_invited(ctx.invitation, data)
        else:
            account = registration.register_self(data, lang=g.locale)
    except AccountError as exc:
        name = exc.extra.get("field")
        if name in form:
            form[name].errors = [refusal_text(exc.description)]
        else:
            form.form_errors.append(refusal_text(exc.description))
        return _invalid(ctx, form, as_json, status=exc.status, code=exc.code)
    except registration.InvitationUnusable as exc:
        # Lost a race, perhaps to this very browser's first click: the paused request
        # now offers sign-in (or carries on, once the winner has signed this browser in).
        raise Failure(exc.status, exc.code, INVITATION_JUST_USED, _continue_after(ctx)) from None
    start_session(account, amr=passkeys.amr_of_new(data.passkey))
    target = _continue_url(ctx)
    if as_json:
        return jsonify(sub=account.sub, continue_url=target), 201
    allow_continuing(ctx)
    return redirect(target, code=303)


def _registration(form: RegistrationForm, specs, with_password: bool):
    """What the valid ``form`` asks to register (the password unless a passkey is sent)."""
    return registration.Registration(
        password=form.password.data if with_password else None,
        email=form.email.data or None,
        phone_number=form.phone_number.data or None,
        given_name=form.given_name.data or None,
        family_name=form.family_name.data or None,
        custom_fields=form.custom_values(specs),
        passkey_name=passkey_name(),
    )


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


def refused(ctx: Context) -> Failure:
    """The Failure for this context's refusal (an unknown invitation when none is left)."""
    reason = ctx.refusal() or "invite_unknown"
    key, status = REFUSALS[reason]
    after = _continue_after(ctx) if reason == "invite_accepted" else None
    return Failure(status, reason, EXPLANATIONS[key][0], after)


def _continue_after(ctx: Context) -> str:
    if ctx.interaction is not None:
        return _resume_url(ctx.interaction.uid, ctx.token)
    return _public_url("web.sign_in")


def failure_response(failure: Failure, as_json: bool):
    """The refusal as a JSON error or as a page."""
    if as_json:
        body = {"error": failure.code, "error_description": str(failure.description)}
        if failure.continue_url:
            body["continue_url"] = failure.continue_url
        return jsonify(body), failure.status
    html = render_template(
        "web/registration_failed.html",
        description=refusal_text(failure.description),
        continue_url=failure.continue_url,
    )
    return html, failure.status
