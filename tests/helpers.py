"""Helpers shared by the tests: factories, PKCE pairs, and the browser steps of a sign-in."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from app.accounts.service import create_account
from app.clients.service import create_client

REDIRECT_URI = "https://rp.example.com/callback"
PASSWORD = "correct horse battery"


@dataclass
class ClientInfo:
    client_id: str
    secret: str | None
    redirect_uri: str

    def basic_auth(self) -> dict:
        """An Authorization header for client_secret_basic."""
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass
class AccountInfo:
    sub: str
    email: str
    password: str


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Factory:
    """Creates rows inside a short app context and hands back plain values."""

    def __init__(self, app):
        self.app = app

    def client(self, *, public=False, first_party=True, redirect_uris=None, **kw) -> ClientInfo:
        redirect_uris = redirect_uris or [REDIRECT_URI]
        kw.setdefault("scope", "openid profile email phone offline_access")
        kw.setdefault("post_logout_redirect_uris", ["https://rp.example.com/bye"])
        with self.app.app_context():
            client, secret = create_client(
                kw.pop("name", "Test RP"),
                redirect_uris,
                public=public,
                first_party=first_party,
                **kw,
            )
            return ClientInfo(client.client_id, secret, redirect_uris[0])

    def account(self, email="ada@example.com", password=PASSWORD, **kw) -> AccountInfo:
        with self.app.app_context():
            account = create_account(
                email,
                password,
                email_verified=True,
                given_name=kw.pop("given_name", "Ada"),
                family_name=kw.pop("family_name", "Lovelace"),
                **kw,
            )
            return AccountInfo(account.sub, account.email, password)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def query(location: str) -> dict[str, str]:
    """The single-valued query parameters of a redirect Location."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_params(rp: ClientInfo, challenge: str | None, **extra) -> dict:
    """A typical OIDC authorization request."""
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid profile email offline_access",
        "state": "st-" + secrets.token_urlsafe(8),
        "nonce": "n-" + secrets.token_urlsafe(8),
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def authorize_url(params: dict) -> str:
    return "/authorize?" + urlencode(params)


def sign_in_at(browser, interaction_location: str, email: str, password: str):
    """Follow an interaction redirect, submit the sign-in form, return the response."""
    page = browser.get(interaction_location)
    assert page.status_code == 200, page.data
    path = urlsplit(interaction_location).path
    return browser.post(
        path + "/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": email,
            "password": password,
        },
    )


def obtain_code(browser, rp: ClientInfo, account: AccountInfo, **extra) -> tuple[str, str, dict]:
    """Authorize → sign in → (first-party, no consent) → code. Returns (code, verifier, params)."""
    verifier, challenge = pkce_pair()
    params = authorize_params(rp, challenge, **extra)
    response = browser.get(authorize_url(params))
    if response.status_code in (302, 303) and "/interaction/" in response.location:
        response = sign_in_at(browser, response.location, account.email, account.password)
        assert response.status_code == 303, response.data
        response = browser.get(response.location)
    assert response.status_code in (302, 303), response.data
    assert response.location.startswith(rp.redirect_uri), response.location
    got = query(response.location)
    assert got["state"] == params["state"]
    return got["code"], verifier, params


def redeem(browser, rp: ClientInfo, code: str, verifier: str | None, **extra):
    """POST the code to /token with client_secret_basic (or client_id for public clients)."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return post_as(browser, rp, "/token", {**data, **extra})


# -- Added for the protocol suite (tests/oauth) ------------------------------------------

ISSUER = "http://localhost"

#: RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
RFC6749_ERROR_CHARS = frozenset(
    chr(c) for c in [0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F)]
)


def rfc6749_safe(text: str) -> bool:
    """Whether an error/error_description value stays within RFC 6749's character set."""
    return set(text) <= RFC6749_ERROR_CHARS


def bearer(access_token: str) -> dict:
    """An Authorization header carrying a bearer access token."""
    return {"Authorization": f"Bearer {access_token}"}


def sign_in(browser, account: AccountInfo):
    """Sign in on the standalone /login page; returns the POST response."""
    page = browser.get("/login")
    assert page.status_code == 200, page.data
    return browser.post(
        "/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": account.email,
            "password": account.password,
        },
    )


def is_signed_in(browser) -> bool:
    """Whether this browser has an active session (the account page answers 200)."""
    return browser.get("/account").status_code == 200


def obtain_tokens(browser, rp: ClientInfo, account: AccountInfo, **extra) -> dict:
    """A full code flow ending at /token; returns the token response body (plus the
    authorization request parameters under ``"_params"``)."""
    code, verifier, params = obtain_code(browser, rp, account, **extra)
    response = redeem(browser, rp, code, verifier)
    assert response.status_code == 200, response.json
    body = dict(response.json)
    body["_params"] = params
    return body


def refresh(browser, rp: ClientInfo, refresh_token: str, **extra):
    """POST a refresh_token grant, authenticating as ``rp``."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return post_as(browser, rp, "/token", data)


def post_as(browser, rp: ClientInfo, path: str, data: dict):
    """POST to a client-authenticated endpoint (/revoke, /introspect) as ``rp``."""
    data = dict(data)
    headers = {}
    if rp.secret:
        headers = rp.basic_auth()
    else:
        data["client_id"] = rp.client_id
    return browser.post(path, data=data, headers=headers)


def update_rows(app, model, where: dict, **values) -> int:
    """Set columns on the rows of ``model`` matching ``where``; returns how many changed."""
    from sqlalchemy import update

    from app.extensions import db

    with app.app_context():
        stmt = update(model).values(**values)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        count = db.session.execute(stmt).rowcount
        db.session.commit()
        return count


def assert_error_redirect(response, rp: ClientInfo, params: dict, error: str) -> dict:
    """A redirect to the registered redirect_uri with ``error``, the request's state and iss."""
    assert response.status_code == 302, response.data
    assert response.location.startswith(rp.redirect_uri + "?"), response.location
    got = query(response.location)
    assert got["error"] == error
    assert got["state"] == params["state"]
    assert got["iss"] == ISSUER
    assert "code" not in got
    return got


# -- Added for the invitation pages and CLI (tests/flows/test_short_links.py) -------------

INITIATE_LOGIN_URI = "https://rp.example.com/login?from=invite"


@dataclass
class InvitationInfo:
    id: str
    token: str
    link: str
    short_link: str


def invite(app, actor: str = "test", **fields) -> InvitationInfo:
    """Create an invitation through the domain service; returns its id, token and links."""
    from app.invitations import creation
    from app.invitations.validation import InvitationInput

    with app.app_context():
        issued = creation.create(InvitationInput(**fields), actor)
        return InvitationInfo(
            issued.invitation.public_id, issued.token, issued.link, issued.short_link
        )


def set_invitation_state(app, invitation_id: str, state: str) -> None:
    """Move an invitation into ``state`` the way the domain does (``expired``: its
    lifetime ended a minute ago)."""
    from datetime import timedelta

    from app.extensions import db
    from app.invitations import service
    from app.models import Invitation, utcnow

    with app.app_context():
        row = service.find(invitation_id)
        if state == "revoked":
            service.revoke(invitation_id, "test")
        elif state == "rejected":
            service.reject(row, "invitee")
        elif state == "accepted":
            service.accept(row, "sub-123", "invitee")
            db.session.commit()
    if state == "expired":
        past = utcnow() - timedelta(minutes=1)
        update_rows(app, Invitation, {"public_id": invitation_id}, expires_at=past)


# -- Added for the invitation domain and admin API tests (tests/invitations, tests/api) ---


def row_counts(app) -> dict[str, int]:
    """How many rows every table holds: equal before and after means nothing was written."""
    from sqlalchemy import func, select

    from app.extensions import db

    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


# -- Added for the registration journeys (tests/registration) ----------------------------

NEW_PASSWORD = "a sturdy passphrase"


@dataclass
class Started:
    """An authorization request that paused for a page: where it is and what it sent."""

    location: str
    params: dict
    verifier: str

    @property
    def uid(self) -> str:
        return urlsplit(self.location).path.rsplit("/", 1)[-1]


def start_authorization(browser, rp: ClientInfo, **extra) -> Started:
    """GET /authorize with PKCE; asserts it pauses (303 to an interaction page)."""
    verifier, challenge = pkce_pair()
    params = authorize_params(rp, challenge, **extra)
    response = browser.get(authorize_url(params))
    assert response.status_code == 303, response.data
    assert "/interaction/" in response.location, response.location
    return Started(response.location, params, verifier)


def registration_page(browser, started: Started):
    """The page an interaction shows (registration form, refusal, sign-in ...)."""
    return browser.get(started.location)


def form_action(html: str, form_id: str | None = None) -> str:
    """The action of the form with ``id`` (or the first form), HTML-unescaped."""
    import html as html_lib

    pattern = rf'<form[^>]*id="{form_id}"[^>]*>' if form_id else r'<form[^>]*method="post"[^>]*>'
    tag = re.search(pattern, html)
    assert tag, f"no form {form_id or ''} on the page"
    action = re.search(r'action="([^"]+)"', tag.group(0))
    return html_lib.unescape(action.group(1))


def post_registration_form(browser, html: str, **fields):
    """Submit the registration form on ``html`` with its CSRF token, ``fields`` and
    (unless given) a good password."""
    data = {"csrf_token": csrf_token(html), "password": NEW_PASSWORD, **fields}
    return browser.post(form_action(html, "registration"), data=data)


def submit_registration(browser, started: Started, **fields):
    """Open the registration page and submit its form with ``fields``."""
    page = registration_page(browser, started)
    assert page.status_code == 200, page.data
    return post_registration_form(browser, page.get_data(as_text=True), **fields)


def finish_at_client(browser, response, rp: ClientInfo, started: Started) -> dict:
    """Follow the 303 after registration to the client; returns the callback's query."""
    assert response.status_code == 303, response.data
    response = browser.get(response.location)
    assert response.status_code == 302, response.data
    assert response.location.startswith(rp.redirect_uri + "?"), response.location
    got = query(response.location)
    assert got["state"] == started.params["state"]
    assert got["iss"] == ISSUER
    return got
