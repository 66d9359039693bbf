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

The context lives in app/web/registration_context.py, the pages in
app/web/registration_pages.py, and what a submission does in
app/web/registration_submit.py; this module holds the blueprint and its routes.
"""

from __future__ import annotations

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

from app.accounts import registration
from app.errors import DomainError
from app.extensions import csrf, limiter
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.web.join import joins
from app.web.join import page as join_page
from app.web.registration_context import EXPLANATIONS, hosted, set_context_locale
from app.web.registration_pages import expired_page, show
from app.web.registration_submit import (
    Failure,
    failure_response,
    refused,
    register,
    submitted_context,
)
from app.web.resuming import resumed

bp = Blueprint("registration", __name__)


@bp.get("/register")
def hosted_page():
    """Hosted registration: client-less invitations, or self-service without a client
    (an invitation for an existing account: its sign-in, app/web/join.py)."""
    ctx = hosted(request.args.get("invite_id"))
    return join_page(ctx) if joins(ctx) else show(ctx)


@bp.post("/interaction/<uid>/view")
def switch_view(uid: str):
    """From the registration page: sign in instead, or register without the invitation."""
    found = resumed(uid, pauses.REGISTER, pauses.JOIN)  # offered on these pages only
    if isinstance(found, Response):
        return found
    paused, outcome = found
    if request.form.get("view") == "register":
        if not registration.may_register_without_invitation(pauses.client_of(paused)):
            return expired_page()
        pauses.register_without_invitation(paused)
    else:
        pauses.sign_in_instead(paused)
    return redirect(url_for("web.interaction", uid=uid), code=303)


def _registration_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


@bp.post("/registration")
@csrf.exempt  # registration_submit.check_csrf: forms carry a token, JSON cannot come cross-site
@limiter.limit(_registration_limit)
def submit():
    """Create the account, accept the invitation, sign in, and continue."""
    as_json = request.is_json
    try:
        ctx = submitted_context(as_json)
        if isinstance(ctx, Response):
            return ctx
        return register(ctx, as_json)
    except Failure as failure:
        return failure_response(failure, as_json)


@bp.post("/registration/decline")
@csrf.exempt  # as above
@limiter.limit(_registration_limit)
def decline():
    """The invited person declines: the invitation becomes ``rejected``."""
    as_json = request.is_json
    try:
        ctx = submitted_context(as_json)
        if isinstance(ctx, Response):
            return ctx
        if ctx.invitation is None or ctx.refusal() is not None:
            raise refused(ctx)
        try:
            registration.decline(ctx.invitation)
        except DomainError as exc:
            raise Failure(exc.status, exc.code, exc.description) from None
    except Failure as failure:
        return failure_response(failure, as_json)
    if ctx.interaction is not None:
        response = authorization.deny(ctx.interaction)
        return jsonify(continue_url=response.location) if as_json else response
    if as_json:
        return jsonify(state="rejected")
    set_context_locale(ctx)
    title, hint = EXPLANATIONS["invite_declined"]
    return render_template("web/invitation_link.html", title=title, hint=hint), 200
