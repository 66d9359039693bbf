"""Creating invitations, one (``create``) or many in one transaction (``create_each``),
and checking one without writing (``check``, the dashboard's bulk preview). No request
or session in here: callers pass plain values and an actor label; each invitation is
stored with its ``invitation.created`` event and its message in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app import events
from app.crypto import hash_secret, new_secret
from app.errors import DomainError
from app.extensions import db
from app.invitations import service, states
from app.invitations.errors import AccountExists, InvalidInvitation, InvitationConflict
from app.invitations.issued import Issued
from app.invitations.validation import InvitationInput, validated
from app.messages import invitations as invitation_messages
from app.models import Account, Invitation, utcnow


def create(
    data: InvitationInput,
    actor: str,
    accept_languages: list[str] | None = None,
    before_commit: Callable[[Issued], None] | None = None,
) -> Issued:
    """Validate, store and commit one invitation with its ``invitation.created`` event.

    ``before_commit`` may add rows that belong to the same transaction (the API's
    remembered answer to an ``Idempotency-Key``).
    """
    try:
        issued = add(data, actor, accept_languages)
        if before_commit is not None:
            before_commit(issued)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _duplicate() from None
    return issued


def check(data: InvitationInput, accept_languages: list[str] | None = None) -> None:
    """Apply ``create``'s rules to ``data`` without writing anything (a bulk preview).

    A pending invitation past its expiry does not count as a duplicate: ``add`` would
    mark it expired first.
    """
    now = utcnow()
    _refuse_duplicates(validated(data, accept_languages or [], now), now)


def add(data: InvitationInput, actor: str, accept_languages: list[str] | None = None) -> Issued:
    """Validate and add one invitation to the session (flushed, not committed)."""
    now = utcnow()
    values = validated(data, accept_languages or [], now)
    _expire_stale(values["pending_key"])
    _refuse_duplicates(values)
    token = new_secret(24)
    invitation = Invitation(
        token_hash=hash_secret(token),
        short_link_expires_at=now + timedelta(seconds=current_app.config["SHORT_LINK_LIFETIME"]),
        state=states.INITIATED,
        invited_by=actor,
        created_at=now,
        **values,
    )
    db.session.add(invitation)
    db.session.flush()
    events.record("invitation.created", actor, invitation=invitation, to_state=states.INITIATED)
    issued = Issued(invitation, token)
    invitation_messages.queue_invitation(issued)
    return issued


def create_each(
    items: list[InvitationInput | DomainError],
    actor: str,
    accept_languages: list[str] | None = None,
) -> list[Issued | DomainError]:
    """Add each invitation in its own savepoint and commit them all at once (bulk).

    A refused item (or one the caller could not parse, passed in as its error) is
    reported in its place and does not undo the others.
    """
    _begin_transaction()
    results: list[Issued | DomainError] = []
    for item in items:
        if isinstance(item, DomainError):
            results.append(item)
            continue
        try:
            with db.session.begin_nested():
                results.append(add(item, actor, accept_languages))
        except DomainError as exc:
            results.append(exc)
        except IntegrityError:
            # A concurrent request took the same pending address meanwhile.
            results.append(_duplicate())
    created_ids = [r.invitation.id for r in results if isinstance(r, Issued)]
    db.session.commit()
    _load_details(created_ids)
    return results


def _begin_transaction() -> None:
    """Open the transaction the savepoints nest in.

    pysqlite begins a transaction only before INSERT, UPDATE or DELETE, so SQLite would
    take the first SAVEPOINT as the transaction itself and commit at its RELEASE: one
    commit (and fsync) per row instead of one per batch.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _load_details(ids: list[int]) -> None:
    """Reload committed invitations with their client, groups and roles, a few queries
    per 500 rows instead of a few per row."""
    for start in range(0, len(ids), 500):
        db.session.scalars(
            select(Invitation)
            .where(Invitation.id.in_(ids[start : start + 500]))
            .options(
                joinedload(Invitation.client),
                selectinload(Invitation.groups),
                selectinload(Invitation.roles),
            )
        ).all()


def _expire_stale(pending_key: str) -> None:
    stale = db.session.scalar(
        select(Invitation).where(
            Invitation.pending_key == pending_key, Invitation.expires_at <= utcnow()
        )
    )
    if stale is not None:
        service.apply(stale, "expire", "system")


def _refuse_duplicates(values: dict[str, Any], now: datetime | None = None) -> None:
    """Refuse a pending invitation for the same address and client (with ``now``: one
    still pending at ``now``), and an address that does not match what the invitation
    says of accounts (``_refuse_accounts``)."""
    same = select(Invitation.public_id).where(Invitation.pending_key == values["pending_key"])
    pending = db.session.scalar(same if now is None else same.where(Invitation.expires_at > now))
    if pending is not None:
        raise InvitationConflict(
            "a pending invitation for this address and client exists", invitation_id=pending
        )
    _refuse_accounts(values)


def _refuse_accounts(values: dict[str, Any]) -> None:
    """An invitation for a new person: no account may hold its email or number (409).
    One for an existing account (issue 15): an account, enabled, must hold its email,
    and its number, if any, must be that account's or nobody's."""
    by_email = _holder(Account.email, values["email"])
    by_phone = _holder(Account.phone_number, values["mobile_number"])
    if not values["existing_account"]:
        holder = by_email or by_phone
        if holder is not None:
            raise AccountExists("this address already belongs to an account", holder.sub)
        return
    if by_email is None:
        # Refused rather than taken as an invitation to register: the inviter meant
        # someone with an account, so the address is likely mistyped, and whoever
        # holds it would register with the invitation's groups and roles.
        raise InvalidInvitation("existing_account", "no account has this email")
    if by_email.disabled:
        raise AccountExists("the account with this email is disabled", by_email.sub)
    if by_phone is not None and by_phone.id != by_email.id:
        raise AccountExists("this mobile number belongs to another account", by_phone.sub)


def _holder(column, value: str | None) -> Account | None:
    return db.session.scalar(select(Account).where(column == value)) if value else None


def _duplicate() -> InvitationConflict:
    """The conflict to report when a concurrent create won the unique pending key."""
    return InvitationConflict("a pending invitation for this address and client exists")
