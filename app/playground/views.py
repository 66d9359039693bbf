"""Playground pages: start a PKCE flow, receive the callback, show what was verified.

Pending flows live in the Flask session keyed by ``state``, so several tabs can sign
in at once; the last verified sign-in is kept there too, to be shown and signed out.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict
from datetime import UTC, datetime

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import format_datetime

from app.playground import client
from app.playground.client import Flow, PlaygroundError, Settings, SignIn

bp = Blueprint("playground", __name__, url_prefix="/playground")

#: Key of the playground's data in the Flask session.
SESSION_KEY = "playground"
#: Flows a browser may have pending at once; starting another forgets the oldest
#: (each costs about 250 bytes of the 4 KB session cookie).
MAX_PENDING_FLOWS = 3
#: Seconds a started flow may wait for its callback (15 minutes).
FLOW_LIFETIME = 15 * 60
#: Longest error text from an authorization response that is shown back.
MAX_ERROR_TEXT = 300
#: What the by-hand code page shows of an authorization response.
CODE_PAGE_PARAMS = ("code", "state", "iss", "error", "error_description")
#: Claims that are times in seconds since 1970: shown with their date as well.
TIME_CLAIMS = frozenset({"exp", "iat", "nbf", "auth_time", "updated_at"})


@bp.get("/")
def index():
    """Explain the playground; show the last sign-in's verified claims and userinfo."""
    data = _data()
    signed_out = _is_logout_return(data, request.args.get("state"))
    if signed_out:
        data.pop("result", None)
        data.pop("logout_state", None)
        session[SESSION_KEY] = data
    result, logout_url = data.get("result"), None
    if result:
        logout_url = client.logout_url(_settings(), result["id_token"], data["logout_state"])
    return render_template(
        "playground/index.html",
        settings=_settings(),
        result=result,
        logout_url=logout_url,
        signed_out=signed_out,
        when=claim_time,
    )


def claim_time(name: str, value) -> str | None:
    """The date and time (UTC, in the page's language) of a time claim, else None."""
    if name not in TIME_CLAIMS or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return format_datetime(moment, "medium", rebase=False) + " UTC"


@bp.get("/login")
def login():
    """The client's initiate_login_uri: remember a new flow and go to /authorize."""
    flow = Flow.start()
    _remember(flow)
    passthrough = {
        name: request.args[name] for name in client.PASSTHROUGH_PARAMS if request.args.get(name)
    }
    return redirect(client.authorization_url(_settings(), flow, passthrough), code=302)


@bp.get("/callback")
def callback():
    """The redirect_uri: match state, check iss, then redeem the code and verify."""
    settings = _settings()
    flow = _take(request.args.get("state"))
    try:
        if flow is None:
            raise PlaygroundError(
                "This response does not belong to a sign-in started here "
                "(unknown or expired state). Please start again."
            )
        client.check_issuer(settings, request.args.get("iss"))
        if request.args.get("error"):
            return _authorization_error()
        sign_in = client.complete(settings, flow, request.args.get("code"))
    except PlaygroundError as exc:
        html = render_template("playground/error.html", message=str(exc))
        return html, exc.status
    _store(sign_in)
    return redirect(url_for("playground.index"), code=303)


@bp.get("/code")
def code():
    """A redirect_uri for flows started by hand (README): shows the authorization
    response (``code``, ``state``, ``iss``, or ``error``) for the person to redeem the
    code themself; nothing is redeemed or remembered here."""
    shown = {name: request.args.get(name, "")[:MAX_ERROR_TEXT] for name in CODE_PAGE_PARAMS}
    return render_template("playground/code.html", **shown, token_url=_settings().issuer + "/token")


def _authorization_error():
    error = request.args["error"][:MAX_ERROR_TEXT]
    description = request.args.get("error_description", "")[:MAX_ERROR_TEXT]
    return render_template("playground/error.html", error=error, description=description)


def _settings() -> Settings:
    return Settings.from_config(current_app.config)


def _data() -> dict:
    data = session.get(SESSION_KEY)
    return dict(data) if isinstance(data, dict) else {}


def _remember(flow: Flow) -> None:
    data = _data()
    now = int(time.time())
    flows = {
        state: f
        for state, f in (data.get("flows") or {}).items()
        if now - f.get("started_at", 0) < FLOW_LIFETIME
    }
    flows[flow.state] = {k: v for k, v in asdict(flow).items() if k != "state"}
    newest = sorted(flows, key=lambda state: flows[state]["started_at"])[-MAX_PENDING_FLOWS:]
    data["flows"] = {state: flows[state] for state in newest}
    session[SESSION_KEY] = data


def _take(state: str | None) -> Flow | None:
    """Forget and return the pending flow for ``state``: each state is single use."""
    data = _data()
    flows = dict(data.get("flows") or {})
    stored = flows.pop(state, None) if state else None
    data["flows"] = flows
    session[SESSION_KEY] = data
    if stored is None or int(time.time()) - stored["started_at"] >= FLOW_LIFETIME:
        return None
    return Flow(state=state, **stored)


def _store(sign_in: SignIn) -> None:
    data = _data()
    data["result"] = asdict(sign_in)
    data["logout_state"] = secrets.token_urlsafe(16)
    session[SESSION_KEY] = data


def _is_logout_return(data: dict, state: str | None) -> bool:
    """Whether the server sent the browser back here after the Sign out link."""
    expected = data.get("logout_state")
    if not state or not expected:
        return False
    return secrets.compare_digest(state.encode(), expected.encode())
