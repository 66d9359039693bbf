"""The registration pages (spec §3.4): the form, or the page that explains why there
is none (a refused invitation, with sign-in or self-service offered where they help),
the sign-in page for an invitation already accepted, and the page for a paused request
that is gone. Showing any of them reads and never writes."""

from __future__ import annotations

from flask import render_template, url_for

from app.accounts import registration
from app.accounts.fields import registration_fields
from app.accounts.sessions import current_session
from app.accounts.validation import MIN_PASSWORD_LENGTH
from app.security import allow_form_redirect_to
from app.web.forms import RegistrationForm, SignInForm, registration_form
from app.web.i18n import set_locale
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
    allow_continuing(ctx)
    email = ctx.invitation.email if ctx.invitation else None
    html = render_template(
        "web/sign_in.html",
        form=SignInForm(email=email),
        # invite_id keeps the invitation's language on the answer (app/web/views.py).
        action=url_for("web.interaction_login", uid=ctx.interaction.uid, invite_id=ctx.token),
        client=ctx.client,
        notice=EXPLANATIONS["invite_accepted"][1],
    )
    return html, 200


def _refusal_page(ctx: Context, reason: str):
    key, status = REFUSALS[reason]
    title, hint = EXPLANATIONS[key]
    offer_registration = reason in INVITATION_UNUSABLE and (
        registration.may_register_without_invitation(ctx.client)
    )
    html = render_template(
        "web/registration_refused.html",
        title=title,
        hint=hint,
        ctx=ctx,
        offer_registration=offer_registration,
        offer_sign_in=reason != "invite_other_client",
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
