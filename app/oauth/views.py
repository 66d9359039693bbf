"""Protocol endpoints: discovery, JWKS, authorize, token, userinfo, revoke,
introspect and RP-initiated logout."""

from __future__ import annotations

from collections.abc import Callable

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

from app.accounts.sessions import browser_secret, current_session, end_session
from app.errors import error_page
from app.extensions import csrf, limiter
from app.oauth import authorization, keys
from app.oauth.claims import user_claims
from app.oauth.documents import Document
from app.oauth.logout import LogoutError, validate_logout
from app.oauth.metadata import metadata_still_current, server_metadata
from app.oauth.published import served
from app.oauth.server import authorization_server, resource_protector
from app.security import allow_form_redirect_to
from app.web.forms import LogoutForm

bp = Blueprint("oauth", __name__)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    """OpenID Provider Metadata and RFC 8414 metadata (the same document)."""
    return _static(Document.of(server_metadata()), still_right=metadata_still_current())


@bp.get("/jwks.json")
def jwks():
    """Public signing keys, each with its ``kid``."""
    return _static(keys.jwks_document(), still_right=keys.jwks_still_current())


def _static(document: Document, still_right: Callable[[], bool]) -> Response:
    # Served like a static file: relying parties revalidate with If-None-Match and
    # get a 304, and caches keep it JWKS_MAX_AGE seconds, the delay a published
    # next key should wait before it signs. The same answer is then given from memory
    # in front of Flask while still_right() holds (app/oauth/published.py).
    served(document, still_right)
    headers = {
        "ETag": f'"{document.etag}"',
        "Cache-Control": f"public, max-age={current_app.config['JWKS_MAX_AGE']}",
    }
    if request.if_none_match.contains(document.etag):
        return Response(status=304, headers=headers)
    return Response(document.body, mimetype="application/json", headers=headers)


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # relying parties may POST the request (OIDC Core §3.1.2.1)
def authorize():
    """The authorization endpoint."""
    return authorization.start(current_session(), browser_secret())


@bp.post("/token")
@csrf.exempt
@limiter.limit(lambda: _config("TOKEN_RATE_LIMIT"))
def token():
    """The token endpoint: authorization_code, refresh_token, client_credentials."""
    return _no_store(authorization_server().create_token_response())


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    """Claims about the person the access token was issued for."""
    with resource_protector().acquire("openid") as token:
        return _no_store(jsonify(user_claims(token.account, token.scope)))


@bp.post("/revoke")
@csrf.exempt
def revoke():
    """RFC 7009 token revocation."""
    return _no_store(authorization_server().create_endpoint_response("revocation"))


@bp.post("/introspect")
@csrf.exempt
def introspect():
    """RFC 7662 token introspection."""
    return _no_store(authorization_server().create_endpoint_response("introspection"))


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt  # relying parties may POST; ending a session without proof asks first
def logout():
    """RP-initiated logout: ends the session at once only when the hint proves the RP."""
    try:
        req = validate_logout(request.values)
    except LogoutError as exc:
        return error_page("invalid_request", str(exc))
    browser = current_session()
    if browser is None or (req.hint_sub and req.hint_sub == browser.account.sub):
        end_session()
        return _after_logout(req.redirect_target())
    form = LogoutForm(data=request.values.to_dict())
    allow_form_redirect_to(req.post_logout_redirect_uri)
    return render_template("oauth/logout_confirm.html", form=form, client=req.client)


@bp.post("/logout/confirm")
def logout_confirm():
    """The person confirmed signing out on the confirmation page."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return error_page("invalid_request", "The form expired; please try again.")
    try:
        req = validate_logout(form.data)
    except LogoutError as exc:
        return error_page("invalid_request", str(exc))
    if form.cancel.data:
        return redirect(url_for("web.account"), code=303)
    end_session()
    return _after_logout(req.redirect_target())


def _after_logout(target: str | None):
    code = 303 if request.method == "POST" else 302
    return redirect(target or url_for("web.signed_out"), code=code)


def _config(name: str) -> str:
    return current_app.config[name]
