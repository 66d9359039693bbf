"""The playground's side of the protocol: PKCE, the authorization request, the code
exchange, ID-token verification and userinfo, all spoken over HTTP to the issuer."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import Request, urlopen

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

#: Seconds each back-channel call to the issuer may take.
HTTP_TIMEOUT = 5
#: Bytes read at most from one back-channel response.
MAX_RESPONSE_SIZE = 256 * 1024
#: The scopes the playground asks for. The server grants ``groups`` and ``roles`` (the
#: claims of the same names) only if the playground's client is allowed them, as the
#: seed's is; otherwise it leaves them out of the grant.
SCOPE = "openid profile email groups roles"
#: Query parameters of the login route handed on to /authorize unchanged: an
#: invitation link carries them (spec §2 steps 2 and 4).
PASSTHROUGH_PARAMS = ("invite_id", "view_type")
#: The algorithms the server's discovery document lists for ID tokens.
ID_TOKEN_ALGORITHMS = ["RS256"]


class PlaygroundError(Exception):
    """A sign-in that cannot be completed; the message is safe to show."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Settings:
    """Which client the playground is and which server it talks to."""

    issuer: str
    client_id: str
    client_secret: str

    @classmethod
    def from_config(cls, config: Mapping) -> Settings:
        """Read the PLAYGROUND_* settings and the ISSUER."""
        return cls(
            str(config["ISSUER"]).rstrip("/"),
            config["PLAYGROUND_CLIENT_ID"],
            config["PLAYGROUND_CLIENT_SECRET"] or "",
        )

    @property
    def redirect_uri(self) -> str:
        """The callback registered for the playground client."""
        return f"{self.issuer}/playground/callback"

    @property
    def login_uri(self) -> str:
        """The client's ``initiate_login_uri``, where invitation links land."""
        return f"{self.issuer}/playground/login"

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where the server sends the browser back after signing out."""
        return f"{self.issuer}/playground/"


@dataclass(frozen=True)
class Flow:
    """One authorization request in progress, remembered until its callback."""

    state: str
    nonce: str
    code_verifier: str
    started_at: int

    @classmethod
    def start(cls) -> Flow:
        """Fresh state, nonce and an 86-character code_verifier (RFC 7636 allows 43–128)."""
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            started_at=int(time.time()),
        )

    @property
    def code_challenge(self) -> str:
        """RFC 7636 §4.2 S256: BASE64URL(SHA256(ASCII(code_verifier))) without padding."""
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SignIn:
    """What a completed flow proved: the ID token, its verified claims and userinfo."""

    id_token: str
    header: dict
    claims: dict
    userinfo: dict
    scope: str


def authorization_url(settings: Settings, flow: Flow, passthrough: Mapping[str, str]) -> str:
    """The /authorize URL for ``flow``, carrying ``passthrough`` parameters unchanged."""
    params = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": settings.redirect_uri,
        "scope": SCOPE,
        "state": flow.state,
        "nonce": flow.nonce,
        "code_challenge": flow.code_challenge,
        "code_challenge_method": "S256",
        **passthrough,
    }
    return f"{settings.issuer}/authorize?{urlencode(params)}"


def check_issuer(settings: Settings, iss: str | None) -> None:
    """RFC 9207 §2.4: the response must name the issuer the request went to."""
    if iss is None:
        raise PlaygroundError("The authorization response has no iss parameter (RFC 9207).")
    if iss != settings.issuer:
        raise PlaygroundError(
            f"The authorization response came from issuer {iss!r}, not {settings.issuer!r}."
        )


def complete(settings: Settings, flow: Flow, code: str | None) -> SignIn:
    """Redeem ``code``, verify the ID token against the JWKS, and fetch userinfo."""
    if not code:
        raise PlaygroundError("The authorization response carries neither a code nor an error.")
    tokens = redeem_code(settings, code, flow.code_verifier)
    token = verify_id_token(settings, tokens["id_token"], flow.nonce, fetch_jwks(settings))
    userinfo = fetch_userinfo(settings, tokens["access_token"])
    if userinfo.get("sub") != token.claims["sub"]:
        # OIDC Core §5.3.2: a userinfo answer about someone else must not be used.
        raise PlaygroundError("The userinfo sub differs from the ID token's sub.", status=502)
    return SignIn(
        tokens["id_token"], dict(token.header), token.claims, userinfo, str(tokens.get("scope", ""))
    )


def redeem_code(settings: Settings, code: str, code_verifier: str) -> dict:
    """POST the code and its PKCE verifier to /token with client_secret_basic."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.redirect_uri,
        "code_verifier": code_verifier,
    }
    tokens = _call(f"{settings.issuer}/token", form=form, headers=_basic_auth(settings))
    if str(tokens.get("token_type", "")).lower() != "bearer":
        raise PlaygroundError("The token response is not a Bearer token.", status=502)
    for name in ("access_token", "id_token"):
        if not isinstance(tokens.get(name), str):
            raise PlaygroundError(f"The token response has no {name}.", status=502)
    return tokens


def fetch_jwks(settings: Settings) -> KeySet:
    """The server's published signing keys."""
    document = _call(f"{settings.issuer}/jwks.json")
    try:
        return KeySet.import_key_set(document)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise PlaygroundError(f"The JWKS cannot be used: {exc}.", status=502) from None


def verify_id_token(settings: Settings, id_token: str, nonce: str, keys: KeySet) -> jwt.Token:
    """Check the signature, iss, aud, nonce, exp and iat (OIDC Core §3.1.3.7)."""
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": settings.issuer},
        aud={"essential": True, "value": settings.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        registry.validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise PlaygroundError(f"The ID token failed verification: {exc}.") from None
    aud = token.claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and token.claims.get("azp") != settings.client_id:
        raise PlaygroundError("The ID token has several audiences but another azp.")
    return token


def fetch_userinfo(settings: Settings, access_token: str) -> dict:
    """GET /userinfo with the access token."""
    return _call(f"{settings.issuer}/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def logout_url(settings: Settings, id_token: str, state: str) -> str:
    """RP-initiated logout, asking to come back to the playground with ``state``."""
    params = {
        "id_token_hint": id_token,
        "client_id": settings.client_id,
        "post_logout_redirect_uri": settings.post_logout_redirect_uri,
        "state": state,
    }
    return f"{settings.issuer}/logout?{urlencode(params)}"


def _basic_auth(settings: Settings) -> dict[str, str]:
    # RFC 6749 §2.3.1: both parts are form-urlencoded before joining and encoding.
    raw = f"{quote(settings.client_id, safe='')}:{quote(settings.client_secret, safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode("ascii")}


def _call(url: str, *, form: dict | None = None, headers: dict | None = None) -> dict:
    """One back-channel request; a JSON object back, or a PlaygroundError."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise PlaygroundError(f"{url} is not an http(s) URL; check the ISSUER setting.", 500)
    headers = {"Accept": "application/json", **(headers or {})}
    data = None
    if form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = Request(url, data=data, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            body = response.read(MAX_RESPONSE_SIZE)
    except HTTPError as exc:
        with exc:
            detail = _error_detail(exc.read(MAX_RESPONSE_SIZE))
        raise PlaygroundError(f"{url} answered HTTP {exc.code}{detail}.", status=502) from None
    except (URLError, OSError) as exc:  # refused, unresolvable, timed out
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise PlaygroundError(f"Could not reach {url}: {reason}.", status=502) from None
    return _json_object(url, body)


def _json_object(url: str, body: bytes) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise PlaygroundError(f"{url} did not answer with a JSON object.", status=502)
    return value


def _error_detail(body: bytes) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(value, dict) or not value.get("error"):
        return ""
    description = value.get("error_description")
    return f" {value['error']}" + (f" ({description})" if description else "")
