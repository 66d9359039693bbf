"""The applications a person let in (issue 15): the third-party clients they consented
to, with the scopes granted, and revoking one. Revoking forgets the consent (the
client must ask again), revokes every access and refresh token the client holds for
the person (each token family, app/oauth/tokens.py) and spends its unredeemed codes,
in one transaction with the ``consent.revoked`` event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from app import events
from app.errors import NotFound
from app.extensions import db
from app.models import Account, AuthorizationCode, Client, Consent, Token, utcnow
from app.oauth.tokens import revoke_family


class ApplicationNotFound(NotFound):
    """The person granted no consent to that client (404)."""


@dataclass(frozen=True)
class Grant:
    """One application the person consented to."""

    client_id: str
    name: str
    scopes: tuple[str, ...]
    granted_at: datetime


def granted(account: Account) -> list[Grant]:
    """The clients the account consented to, by name."""
    rows = db.session.execute(
        select(Consent, Client)
        .join(Client, Client.id == Consent.client_id)
        .where(Consent.account_id == account.id)
        .order_by(Client.name, Client.client_id)
    )
    return [
        Grant(client.client_id, client.name, tuple(consent.scope.split()), consent.granted_at)
        for consent, client in rows
    ]


def revoke(account: Account, client_id: str) -> str:
    """Forget the consent to ``client_id`` and end what the client holds for the
    account. Commits; returns the client's name. ApplicationNotFound when there is no
    such consent."""
    found = db.session.execute(
        select(Consent, Client)
        .join(Client, Client.id == Consent.client_id)
        .where(Consent.account_id == account.id, Client.client_id == client_id)
    ).first()
    if found is None:
        raise ApplicationNotFound("you have not let this application in")
    consent, client = found
    families = db.session.scalars(
        select(Token.family_id)
        .where(Token.client_id == client.id, Token.account_id == account.id)
        .distinct()
    )
    for family in list(families):
        revoke_family(family)
    db.session.execute(
        update(AuthorizationCode)
        .where(
            AuthorizationCode.client_id == client.id,
            AuthorizationCode.account_id == account.id,
            AuthorizationCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.delete(consent)
    actor = f"account:{account.sub}"
    events.record("consent.revoked", actor, sub=account.sub, client_id=client.client_id)
    name = client.name
    db.session.commit()
    return name
