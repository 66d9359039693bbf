"""The registration pages (spec §3.4): the form, or the page that explains why there
is none (a refused invitation, with sign-in or self-service offered where they help),
the sign-in page for an invitation already accepted, and the page for a paused request
that is gone. Showing any of them reads and never writes."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _

from app.accounts import registration
from app.accounts.errors import AccountError
from app.accounts.fields import registration_fields
from app.accounts.sessions import current_session
from app.accounts.validation import (
    MIN_PASSWORD_LENGTH,
    check_password_policy,
    normalise_email,
    normalise_phone,
)
from app.messages.invitations import app_name, inviter_name
from app.security import allow_form_redirect_to
from app.web.forms import RegistrationForm, SignInForm, registration_form
from app.web.i18n import set_locale
from app.web.passkey_pages import registration_page_context, sign_in_page_context
from app.web.refusals import refusal_text
from app.web.registration_context import (
    EXPLANATIONS,
    INVITATION_UNUSABLE,
    REFUSALS,
    Context,
    set_context_locale,
)


def show(ctx: Context, form: RegistrationForm | None = None, status: int = 200):
    """The registration form, or the page that explains why there is none."""
    set_context_locale(ctx)
    reason = ctx.refusal()
    if reason == "invite_accepted" and ctx.interaction is not None:
        if _signed_in_as_invitee(ctx):
            # The invitee, signed in here, opened the link again: one button carries on
            # (a POST: opening the page changes nothing, not even the paused request).
            return _refusal_page(ctx, reason)
        return _sign_in_instead_page(ctx)
    if reason is not None:
        return _refusal_page(ctx, reason)
    allow_continuing(ctx)
    specs = registration_fields()
    if form is None:
        form = registration_form(specs, **_prefill(ctx))
    else:
        _check_every_field(form)
    html = render_template(
        "web/register.html",
        form=form,
        specs=specs,
        ctx=ctx,
        invitation_line=invitation_line(ctx),
        field_attrs=field_attrs,
        email_locked=bool(ctx.invitation and ctx.invitation.allow_same_email),
        min_password=MIN_PASSWORD_LENGTH,
        action=url_for("registration.submit", **ctx.query()),
        decline_action=url_for("registration.decline", **ctx.query()),
        **registration_page_context(),
    )
    return html, status


def invitation_line(ctx: Context) -> str | None:
    """Who invited the person, and to which application: "Ada Lovelace invited you to
    Shop" (as the invitation's message says it), or None without an invitation."""
    invitation = ctx.invitation
    if invitation is None:
        return None
    inviter, app = inviter_name(invitation.invited_by), app_name(invitation)
    if inviter == app:
        return _("You are invited to %(app)s", app=app)
    return _("%(inviter)s invited you to %(app)s", inviter=inviter, app=app)


#: The service's checks of single fields, run on a refused form so that the page
#: shows every problem at once (the service stops at the first it finds).
FIELD_CHECKS = {
    "email": normalise_email,
    "phone_number": normalise_phone,
    "password": check_password_policy,
}


def _check_every_field(form: RegistrationForm) -> None:
    for name, check in FIELD_CHECKS.items():
        field = form[name]
        if field.errors or not field.data:
            continue
        try:
            check(field.data)
        except AccountError as exc:
            field.errors = [refusal_text(exc.description)]


def field_attrs(field, hint: str | None = None) -> dict[str, str]:
    """The attributes that tie a field to its hint and errors (aria-describedby) and
    mark it invalid."""
    described = [hint] if hint else []
    attrs = {}
    if field.errors:
        described.append(f"{field.name}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return attrs


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
    allow_continuing(ctx)
    email = ctx.invitation.email if ctx.invitation else None
    uid = ctx.interaction.uid
    passkey = sign_in_page_context(url_for("web.interaction_passkey", uid=uid, invite_id=ctx.token))
    html = render_template(
        "web/sign_in.html",
        form=SignInForm(email=email),
        # invite_id keeps the invitation's language on the answer (app/web/views.py).
        action=url_for("web.interaction_login", uid=ctx.interaction.uid, invite_id=ctx.token),
        client=ctx.client,
        notice=EXPLANATIONS["invite_accepted"][1],
        **passkey,
    )
    return html, 200


def _refusal_page(ctx: Context, reason: str):
    key, status = REFUSALS[reason]
    title, hint = EXPLANATIONS[key]
    offer_registration = reason in INVITATION_UNUSABLE and (
        registration.may_register_without_invitation(ctx.client)
    )
    return refusal(ctx, (title, hint), status, offer_registration, reason != "invite_other_client")


def refusal(ctx: Context, words: tuple, status: int, offer_registration: bool, offer_sign_in: bool):
    """The page saying why an invitation cannot be used (``words``: title and hint), and
    what is offered instead: registering without it, signing in."""
    title, hint = words
    html = render_template(
        "web/registration_refused.html",
        title=title,
        hint=hint,
        ctx=ctx,
        offer_registration=offer_registration,
        offer_sign_in=offer_sign_in,
    )
    return html, status


def allow_continuing(ctx: Context) -> None:
    """The forms on this page may lead on (through redirects) to where the person goes next."""
    if ctx.step is not None:
        allow_form_redirect_to(ctx.step.redirect_uri)
    elif ctx.invitation is not None and ctx.invitation.redirect_url:
        allow_form_redirect_to(ctx.invitation.redirect_url)


def expired_page():
    """The paused request is gone: expired, finished, or started in another browser."""
    set_locale()
    return render_template("web/expired.html"), 400
