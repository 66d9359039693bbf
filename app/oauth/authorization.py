"""The authorization endpoint's logic: validate, pause for the person, resume, answer.

Views call ``start``, ``resume`` and ``decide``; each returns either a response for
the browser or a ``Step`` the web layer renders (sign-in or consent).
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidRequestError,
    UnsupportedResponseTypeError,
)
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import Response, current_app, make_response, redirect, request, url_for

from app.errors import error_page as page
from app.models import BrowserSession, Client, Interaction
from app.oauth import interaction as pauses
from app.oauth.server import authorization_server

#: What ``prompt=none`` answers when a step would need the person (OIDC Core 3.1.2.6).
PROMPT_NONE_ERRORS = {
    pauses.CONSENT: ConsentRequiredError,
    pauses.VERIFY_EMAIL: InteractionRequiredError,
    pauses.MFA: InteractionRequiredError,
}


@dataclass
class Step:
    """A page the person must see before the request can be answered."""

    name: str  # pauses.JOIN, REGISTER, LOGIN, VERIFY_EMAIL or CONSENT
    interaction: Interaction
    client: Client
    scope: str
    #: The validated grant, so the step's own form can finish the request.
    grant: object = None

    @property
    def login_hint(self) -> str:
        """The RP's ``login_hint``, to pre-fill the sign-in form."""
        return self.interaction.params.get("login_hint", "")

    @property
    def ui_locales(self) -> str:
        """The RP's ``ui_locales`` preference."""
        return self.interaction.params.get("ui_locales", "")

    @property
    def redirect_uri(self) -> str:
        """Where the answer will go (the page's CSP form-action must allow it)."""
        return self.interaction.params.get("redirect_uri", "")


def start(browser: BrowserSession | None, browser_secret: str) -> Response:
    """Handle a fresh ``/authorize`` request (GET or POST)."""
    params = pauses.request_params(request.values)
    if params is None:
        return error_page(InvalidRequestError("The request is too large."))
    try:
        grant = authorization_server().get_consent_grant(end_user=browser)
    except OAuth2Error as error:
        return error_response(error, params)
    except ValueError:
        # Authlib refuses to build an error whose text would echo forbidden characters.
        return error_page(InvalidRequestError("Malformed authorization request."), params)
    step = pauses.required_step(params, grant.client, browser)
    if step is None:
        return _issue(grant, browser)
    if "none" in params.get("prompt", "").split():
        error_cls = PROMPT_NONE_ERRORS.get(step, LoginRequiredError)
        return error_response(error_cls(redirect_uri=grant.redirect_uri, state=params.get("state")))
    paused = pauses.pause(params, browser_secret)
    # The invitation token goes on in the page's URL only: the pause keeps its hash.
    invite = {"invite_id": params["invite_id"]} if "invite_id" in params else {}
    return redirect(url_for("web.interaction", uid=paused.uid, **invite), code=303)


def resume(interaction: Interaction, browser: BrowserSession | None) -> Response | Step:
    """Continue a paused request: the next page to show, or the answer to the client."""
    grant = _revalidate(interaction, browser)
    if isinstance(grant, Response):
        return grant
    step = pauses.required_step(interaction.params, grant.client, browser, interaction)
    if step is None:
        return _issue(grant, browser, interaction)
    scope = pauses.granted_scope(interaction.params, grant.client)
    return Step(step, interaction, grant.client, scope, grant)


def decide(interaction: Interaction, browser: BrowserSession, allow: bool) -> Response:
    """Answer the consent screen: remember and issue a code, or send access_denied.

    Allowing completes only the consent step: while the request still wants a sign-in
    (``prompt=login``, ``max_age``, an ``id_token_hint`` naming someone else) or a
    registration, the browser goes back to that page instead of receiving a code
    whose ``auth_time`` would be the old sign-in.
    """
    if not allow:
        return deny(interaction)
    outcome = resume(interaction, browser)
    if isinstance(outcome, Response):
        return outcome  # answered already (nothing was left to ask), or refused
    if outcome.name != pauses.CONSENT:
        return back_to(interaction)
    pauses.remember_consent(browser.account_id, outcome.client, outcome.scope)
    return _issue(outcome.grant, browser, interaction)


def back_to(interaction: Interaction) -> Response:
    """Send the browser to the page the paused request needs now."""
    return redirect(url_for("web.interaction", uid=interaction.uid), code=303)


def deny(interaction: Interaction) -> Response:
    """The person said no (declined an invitation): ``access_denied`` to the client."""
    grant = _revalidate(interaction, None)
    if isinstance(grant, Response):
        return grant
    return _deny(interaction, grant)


def _deny(interaction: Interaction, grant) -> Response:
    pauses.finish(interaction)
    state = interaction.params.get("state")
    return error_response(AccessDeniedError(redirect_uri=grant.redirect_uri, state=state))


def _revalidate(interaction: Interaction, browser: BrowserSession | None):
    stored = pauses.StoredAuthorizationRequest(interaction.params)
    try:
        return authorization_server().get_consent_grant(stored, end_user=browser)
    except OAuth2Error as error:
        pauses.finish(interaction)
        return error_response(error, interaction.params)


def _issue(grant, browser: BrowserSession, interaction: Interaction | None = None) -> Response:
    # ``get_consent_grant`` validated the request moments ago; Authlib's
    # ``create_authorization_response`` would validate it all again (client and
    # nonce looked up twice), so the code is made from the validated grant directly.
    if interaction is not None:
        pauses.finish(interaction, commit=False)
    server = authorization_server()
    response = server.handle_response(
        *grant.create_authorization_response(grant.redirect_uri, browser)
    )
    grant.execute_hook("after_authorization_response", response)
    return to_client(response)


def to_client(response: Response) -> Response:
    """Finish a redirect to the client: RFC 9207 ``iss``; 303 when answering a POST."""
    if response.location:
        response.location = add_params_to_uri(
            response.location, [("iss", current_app.config["ISSUER"])]
        )
        if request.method == "POST":
            response.status_code = 303
    return response


def error_response(error: OAuth2Error, params: dict | None = None) -> Response:
    """Redirect the error to a validated redirect_uri, or show it on an error page
    (``params``: the authorization request's, to say what is wrong with it)."""
    if error.redirect_uri:
        server = authorization_server()
        return to_client(server.handle_error_response(None, error))
    return error_page(error, params)


def error_page(error: OAuth2Error, params: dict | None = None) -> Response:
    """An HTML page for errors that must not be redirected (unknown client, bad URI),
    saying in plain words what is wrong with the request."""
    description = error.get_error_description()
    if isinstance(error, UnsupportedResponseTypeError):
        # Authlib words this one with its arguments swapped ("response_type=The
        # response type 'None' is not supported by the server. is not supported").
        description = "response_type must be code"
    return make_response(page(error.error, description, problem=problem_of(params or {})))


def problem_of(params: dict) -> str:
    """What is wrong with an authorization request that cannot be answered to its client,
    checked in the order a person can act on: no client, an unknown client, no or an
    unregistered redirect_uri; else it is garbled (the error page words each)."""
    client_id = params.get("client_id")
    if not client_id:
        return "no_client"
    client = authorization_server().query_client(client_id)
    if client is None:
        return "unknown_client"
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        return "no_redirect_uri"
    if not client.check_redirect_uri(redirect_uri):
        return "unregistered_redirect_uri"
    return "garbled"
