"""SQLAlchemy 2.0 typed models; no request, session or ``g`` in here."""

from app.models.accounts import (
    Account,
    Group,
    PhoneCode,
    Role,
    account_groups,
    account_roles,
)
from app.models.base import Base, utcnow
from app.models.clients import Client
from app.models.factors import Passkey, RecoveryCode, SpentChallenge, TotpFactor
from app.models.invitations import (
    Event,
    IdempotentRequest,
    Invitation,
    LinkExport,
    invitation_groups,
    invitation_roles,
)
from app.models.oauth import AuthorizationCode, Consent, SigningKey, Token
from app.models.outbox import DeliveryAttempt, OutboxItem, PasswordToken, WebhookEndpoint
from app.models.sessions import BrowserSession, Interaction, SignInFailure

__all__ = [
    "Account",
    "AuthorizationCode",
    "Base",
    "BrowserSession",
    "Client",
    "Consent",
    "DeliveryAttempt",
    "Event",
    "Group",
    "IdempotentRequest",
    "Interaction",
    "Invitation",
    "LinkExport",
    "OutboxItem",
    "Passkey",
    "PasswordToken",
    "PhoneCode",
    "RecoveryCode",
    "Role",
    "SignInFailure",
    "SigningKey",
    "SpentChallenge",
    "TotpFactor",
    "Token",
    "WebhookEndpoint",
    "account_groups",
    "account_roles",
    "invitation_groups",
    "invitation_roles",
    "utcnow",
]
