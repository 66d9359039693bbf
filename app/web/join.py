"""The pages of an invitation for a person who already has an account (issue 15,
``existing_account: "join"``): sign in to accept it, instead of registering.

The link works exactly like a new person's: inside a paused authorization request
(its step is ``JOIN``) or on the hosted page ``/register`` (no client). What the page
shows depends on who this browser is signed in as:

- nobody: sign-in with the email fixed to the invited account's, a line saying who
  invited the person to what, and "Decline";
- the invited account: the invitation is accepted at once and the request goes on
  (mail scanners, which open links, carry no session and see the sign-in page);
- another account: a choice, never a silent grant: sign out and continue, or decline.

A refused invitation (expired, withdrawn, declined, for another application) gets the
same explanations as registration. The password goes to the ordinary sign-in (the paused
request's ``/interaction/<uid>/login``, or ``/login?next=`` back to the hosted page), so
its back-off and any second factor apply as to every sign-in; signed in, the person is
back here and the invitation is accepted (``app.invitations.joining.join``). Sign out and
decline post to ``/join/...`` with the context in the query, as registration's forms do
(``?interaction=`` and ``?invite_id=``).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from app.accounts import registration
from app.accounts.registration import InvitationUnusable
from app.accounts.sessions import current_session, end_session
from app.errors import error_page
from app.extensions import limiter
from app.invitations import joining, links, states
from app.invitations import service as invitations
from app.models import Account
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.web.forms import SignInForm
from app.web.passkey_pages import sign_in_page_context
from app.web.registration_context import (
    EXPLANATIONS,
    REFUSALS,
    Context,
    hosted,
    set_context_locale,
)
from app.web.registration_pages import allow_continuing, invitation_line, refusal
from app.web.resuming import resumed

bp = Blueprint("join", __name__)

#: Said above the sign-in form of an invitation the person accepted already.
ACCEPTED_NOTICE = _l("You have accepted this invitation already. Sign in to continue.")
#: The invitation's account was deleted after it was made.
ACCOUNT_GONE = (
    _l("This invitation cannot be used"),
    _l(
        "It is for an account that no longer exists. Please ask the person who invited you "
        "for a new invitation."
    ),
)
DECLINED = (
    _l("You declined the invitation"),
    _l("Nothing changed on your account. You can close this page."),
)


class ConfirmForm(FlaskForm):
    """Sign out and continue, or decline: only the CSRF token."""


def joins(ctx: Context) -> bool:
    """Whether this context's invitation is for an existing account."""
    return ctx.invitation is not None and ctx.invitation.existing_account


def step_context(step: authorization.Step) -> Context:
    """The context of a paused request waiting for JOIN. Its invitation is the one it
    was started with (the request keeps its hash and is bound to this browser), so the
    ordinary sign-in may send the person back without the token in the URL."""
    token = request.args.get("invite_id")
    invitation = invitations.find_by_hash(step.interaction.params.get(pauses.INVITE_HASH))
    matches = pauses.invitation_token_matches(step.interaction, token)
    return Context(token if matches else None, invitation, token_sent=True, step=step)


def step_page(step: authorization.Step, form: SignInForm | None = None):
    """The page of a paused request waiting for JOIN (``form``: sent back with errors)."""
    return page(step_context(step), form)


def page(ctx: Context, form: SignInForm | None = None):
    """The page of this invitation for who is signed in here (see the module's doc);
    ``form``: the sign-in form sent back with its errors."""
    set_context_locale(ctx)
    reason = registration.invitation_refusal(ctx.client, ctx.invitation)
    if reason not in (None, "invite_accepted"):
        return _refusal_page(ctx, *REFUSALS[reason])
    invitee = joining.invitee_of(ctx.invitation)
    if invitee is None:
        return _refusal_page(ctx, ACCOUNT_GONE, 410)
    browser = current_session()
    if browser is None:
        return _sign_in_page(ctx, invitee, form)
    if browser.account_id != invitee.id:
        return _other_account_page(ctx, browser.account, invitee)
    # Following one's own invitation link signed in here is accepting it (mail scanners,
    # which open links, carry no session: they get the sign-in page).
    return _accept(ctx, browser.account)


@bp.post("/join/sign-out")
def sign_out():
    """Signed in as another account: sign out, then the invitation's sign-in page."""
    ctx = _posted()
    if isinstance(ctx, Response):
        return ctx
    if not ConfirmForm().validate_on_submit():
        return _form_expired()
    end_session()
    if ctx.interaction is not None:
        target = url_for("web.interaction", uid=ctx.interaction.uid, invite_id=ctx.token)
    else:
        target = url_for("registration.hosted_page", invite_id=ctx.token)
    return redirect(target, code=303)


@bp.post("/join/decline")
@limiter.limit(lambda: current_app.config["REGISTRATION_RATE_LIMIT"])
def decline():
    """The person declines: the invitation becomes ``rejected``; a paused request
    answers the client ``access_denied``."""
    ctx = _posted()
    if isinstance(ctx, Response):
        return ctx
    if not ConfirmForm().validate_on_submit():
        return _form_expired()
    if registration.invitation_refusal(ctx.client, ctx.invitation) is not None:
        return page(ctx)
    try:
        registration.decline(ctx.invitation)
    except InvitationUnusable:
        return page(ctx)
    if ctx.interaction is not None:
        return authorization.deny(ctx.interaction)
    title, hint = DECLINED
    return render_template("web/invitation_link.html", title=title, hint=hint)


def _posted() -> Context | Response:
    """The context a form names in its query (a Response when there is none to act on).

    A paused request that no longer waits for the invitation (a form sent twice, the
    other tab done first) carries on instead: that changes nothing, so it comes before
    any CSRF check.
    """
    token = request.args.get("invite_id")
    uid = request.args.get("interaction")
    if uid is None:
        ctx = hosted(token)
        if not joins(ctx):
            return redirect(url_for("registration.hosted_page", invite_id=token), code=303)
    else:
        found = resumed(uid, pauses.JOIN)
        if isinstance(found, Response):
            return found
        ctx = step_context(found[1])
    set_context_locale(ctx)
    return ctx


def _accept(ctx: Context, account: Account):
    """Accept for ``account``, signed in here, and carry on; the page again when the
    invitation changed meanwhile."""
    try:
        joining.join(ctx.invitation, account)
    except (InvitationUnusable, joining.NotTheInvitee):
        return page(ctx)
    if ctx.interaction is not None:
        pauses.joined(ctx.interaction)
        return redirect(url_for("web.interaction", uid=ctx.interaction.uid), code=303)
    target = ctx.invitation.redirect_url
    if not (target and links.redirect_allowed(target)):
        target = url_for("web.account")
    return redirect(target, code=303)


def _pending(ctx: Context) -> bool:
    return invitations.state_of(ctx.invitation) in states.PENDING


def _sign_in_page(ctx: Context, invitee: Account, form: SignInForm | None = None):
    """Sign-in with the email fixed to the invited account's; the password goes to the
    ordinary sign-in, which brings the person back here."""
    allow_continuing(ctx)
    form = form or SignInForm()
    form.email.data = invitee.email
    if ctx.interaction is not None:
        query = {"uid": ctx.interaction.uid, "invite_id": ctx.token}
        action = url_for("web.interaction_login", **query)
        passkey = sign_in_page_context(url_for("web.interaction_passkey", **query))
    else:
        back = url_for("registration.hosted_page", invite_id=ctx.token)
        action = url_for("web.sign_in", next=back)
        passkey = sign_in_page_context(url_for("web.sign_in_passkey", next=back))
    html = render_template(
        "web/join.html",
        form=form,
        invitation_line=invitation_line(ctx),
        notice=None if _pending(ctx) else ACCEPTED_NOTICE,
        action=action,
        decline=_decline_form(ctx),
        **passkey,
    )
    return html, 400 if form.errors else 200


def _other_account_page(ctx: Context, account: Account, invitee: Account):
    allow_continuing(ctx)
    html = render_template(
        "web/join_other_account.html",
        form=ConfirmForm(),
        current=account.email or account.phone_number or account.sub,
        invited=invitee.email,
        invitation_line=invitation_line(ctx),
        sign_out_action=url_for("join.sign_out", **ctx.query()),
        decline=_decline_form(ctx),
    )
    return html, 200


def _decline_form(ctx: Context) -> dict | None:
    """The decline form's action and CSRF form, while the invitation can be declined."""
    if not _pending(ctx):
        return None
    return {"action": url_for("join.decline", **ctx.query()), "form": ConfirmForm()}


def _refusal_page(ctx: Context, explanation, status: int):
    """Why this invitation cannot be used (registration's words); signing in normally
    is offered, registering is not (the person has an account)."""
    words = EXPLANATIONS[explanation] if isinstance(explanation, str) else explanation
    allow_continuing(ctx)
    return refusal(ctx, words, status, False, explanation != "invite_other_client")


def _form_expired():
    return error_page(
        "invalid_request", "The form expired or was not sent from this site; please try again."
    )
