"""SQLAlchemy 2.0 typed models; no request, session or ``g`` in here."""

from app.models.accounts import Account, Group, Role, account_groups, account_roles
from app.models.base import Base, utcnow
from app.models.clients import Client
from app.models.oauth import AuthorizationCode, Consent, SigningKey, Token
from app.models.sessions import BrowserSession, Interaction

__all__ = [
    "Account",
    "AuthorizationCode",
    "Base",
    "BrowserSession",
    "Client",
    "Consent",
    "Group",
    "Interaction",
    "Role",
    "SigningKey",
    "Token",
    "account_groups",
    "account_roles",
    "utcnow",
]
