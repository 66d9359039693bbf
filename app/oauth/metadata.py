"""Discovery documents: OpenID Provider Metadata and RFC 8414 server metadata."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from app.accounts.mfa_policy import ACR_VALUES
from app.oauth.claims import CLAIMS_SUPPORTED
from app.oauth.grants import ALL_METHODS, CONFIDENTIAL_METHODS

#: The settings the document is made from.
SETTINGS = ("ISSUER", "OAUTH_SCOPES", "UI_LOCALES")


def metadata_still_current() -> Callable[[], bool]:
    """A check, callable outside any app context, that ``server_metadata`` would still
    say the same: none of the settings it is made from changed (they do not in a
    running deployment; tests change them)."""
    config = current_app.config
    made_from = [config[name] for name in SETTINGS]
    return lambda: [config[name] for name in SETTINGS] == made_from


def server_metadata() -> dict:
    """The metadata document, every URL built from the configured issuer."""
    issuer = current_app.config["ISSUER"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "end_session_endpoint": f"{issuer}/logout",
        "scopes_supported": list(current_app.config["OAUTH_SCOPES"]),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ALL_METHODS,
        "revocation_endpoint_auth_methods_supported": ALL_METHODS,
        "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS_SUPPORTED,
        # ACR_MFA in acr_values asks for a second factor (issue 16).
        "acr_values_supported": list(ACR_VALUES),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "prompt_values_supported": ["none", "login", "consent", "create"],
        "ui_locales_supported": list(current_app.config["UI_LOCALES"]),
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
    }
