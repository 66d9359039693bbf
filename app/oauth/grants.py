"""Grant types and their extensions, stricter than Authlib's defaults (see NOTES.md).

- authorization code: exact redirect_uri, PKCE S256 per client policy, single-use
  codes claimed atomically, a replayed code revokes what it issued;
- refresh token: rotated on every use, a replayed one revokes its whole family;
- client credentials: confidential clients only, scopes limited to the client's.

PKCE is app/oauth/pkce.py, the checks of the authorization request's other
parameters app/oauth/request_checks.py, and ID tokens app/oauth/openid.py: extensions
attached to the code grant in ``init_oauth`` (app/oauth/server.py), in that order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from flask import current_app
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import joinedload

from app.crypto import hash_secret
from app.extensions import db
from app.models import AuthorizationCode, Client, Token, utcnow
from app.oauth.openid import is_openid_request
from app.oauth.tokens import find_token, revoke_family

CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post"]
ALL_METHODS = [*CONFIDENTIAL_METHODS, "none"]
_INSERT_CODE = insert(AuthorizationCode.__table__)


class OrderedHooks:
    """Run hooks in the order they were registered.

    Authlib keeps a grant's hooks in a ``set``, whose order follows object addresses
    and so changes from process to process: the same request could get
    ``request_not_supported`` from one worker and a PKCE error from another. OIDC Core
    §6 wants the former, so the extensions' order in ``init_oauth`` decides.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._hooks = defaultdict(list)

    def register_hook(self, hook_type, hook):
        if hook not in self._hooks[hook_type]:
            self._hooks[hook_type].append(hook)


class OneCommit:
    """A token request writes everything (code claimed, tokens stored, old refresh
    token retired) in one commit, once the answer is built: nothing is expired and
    re-read halfway (the client, code and account the ID token needs)."""

    def create_token_response(self):
        answer = super().create_token_response()
        db.session.commit()
        return answer


class AuthorizationCodeGrant(OrderedHooks, OneCommit, grants.AuthorizationCodeGrant):
    """Code grant: exact redirect_uri, 60 s single-use hashed codes."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        # A redirect_uri is always required and compared byte for byte; the error
        # text never echoes the URI (it may hold characters RFC 6749 forbids).
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing redirect_uri.")
        if len(
            request.payload.datalist.get("redirect_uri", [])
        ) > 1 or not client.check_redirect_uri(uri):
            raise InvalidRequestError("The redirect_uri is not registered for this client.")
        return uri

    def save_authorization_code(self, code, request):
        # ``request.user`` is the BrowserSession that granted the request.
        browser = request.user
        data = request.payload.data
        now = utcnow()
        values = dict(
            code_hash=hash_secret(code),
            client_id=request.client.id,
            account_id=browser.account_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=browser.auth_time,
            session_id=browser.public_sid,
            amr=list(browser.amr) if browser.amr else None,
            issued_at=now,
            expires_at=now + timedelta(seconds=current_app.config["AUTHORIZATION_CODE_LIFETIME"]),
        )
        # One Core INSERT, as for tokens (app/oauth/tokens.py): nothing reads it back.
        db.session.connection().execute(_INSERT_CODE, values)
        db.session.commit()

    def query_authorization_code(self, code, client):
        row = db.session.scalar(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == hash_secret(code))
            .options(joinedload(AuthorizationCode.account))
        )
        if row is None or row.client_id != client.id:
            return None
        if row.used_at is None and row.is_expired():
            return None
        # A used code goes on through the redirect_uri and PKCE checks: only a replay
        # that passes them (the client itself, or whoever also stole its verifier)
        # revokes what the first use issued, in ``authenticate_user``. Otherwise
        # anyone who saw a public client's code could sign its user out.
        return row

    def delete_authorization_code(self, authorization_code):
        # The row stays (marked used) so that a replay can be recognised.
        return None

    def authenticate_user(self, authorization_code):
        # Claim the code atomically: of two concurrent redemptions one wins.
        claimed = db.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == authorization_code.id)
            .where(AuthorizationCode.used_at.is_(None))
            .values(used_at=utcnow())
        ).rowcount
        if claimed != 1:
            # RFC 6749 §4.1.2: a code used twice revokes what the first use issued.
            db.session.rollback()
            revoke_family(authorization_code.family_id)
            db.session.commit()
            raise InvalidGrantError("Invalid code in request.")
        account = authorization_code.account
        return None if account.disabled else account


class RefreshTokenGrant(OneCommit, grants.RefreshTokenGrant):
    """Refresh tokens rotate on every use; a replay revokes the family (RFC 9700 §4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        row = find_token(refresh_token, "refresh_token")
        if row is None or row.presented != "refresh_token":
            return None
        if row.refresh_token_rotated_at is not None:
            revoke_family(row.family_id)
            db.session.commit()
            return None
        if row.is_revoked() or row.is_expired():
            return None
        return row

    def authenticate_user(self, refresh_token):
        # Claim the refresh token atomically (of two concurrent uses one wins), and
        # retire its access token in the same statement (``revoke_old_credential``).
        now = utcnow()
        claimed = db.session.execute(
            update(Token)
            .where(Token.id == refresh_token.id)
            .where(Token.refresh_token_rotated_at.is_(None))
            .values(
                refresh_token_rotated_at=now,
                access_token_revoked_at=func.coalesce(Token.access_token_revoked_at, now),
            )
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            revoke_family(refresh_token.family_id)
            db.session.commit()
            raise InvalidGrantError()
        return refresh_token.account

    def revoke_old_credential(self, refresh_token):
        pass  # done by the claim in ``authenticate_user``


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Machine-to-machine tokens for confidential clients, within their allowed scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS

    def validate_token_request(self):
        # Two statements that need no transaction around them: the client lookup and
        # the token insert, which commits on its own. Without one, PostgreSQL is spared
        # the BEGIN and COMMIT round trips, half of this request's trips to it. (Not
        # SQLite: there, leaving autocommit again costs a PRAGMA per request.)
        if db.engine.dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        super().validate_token_request()

    def create_token_response(self):
        client: Client = self.request.client
        requested = self.request.payload.scope
        non_oidc = " ".join(
            s for s in client.allowed_scopes if s not in ("openid", "offline_access")
        )
        scope = requested or non_oidc
        if set(scope.split()) - set(client.allowed_scopes) or is_openid_request(requested):
            raise InvalidScopeError()
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER
