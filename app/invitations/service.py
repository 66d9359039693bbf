"""Creating and changing invitations. No request or session in here: callers pass
plain values and an actor label; every change records its event in the same
transaction, and state changes go through ``states.target`` only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app import events
from app.accounts.errors import AccountError
from app.accounts.groups import BUILT_IN_ROLES
from app.accounts.validation import json_object, normalise_email, normalise_phone, resolve_names
from app.crypto import hash_secret, new_secret
from app.errors import DomainError
from app.extensions import db
from app.invitations import catalog, links, states
from app.invitations.errors import (
    InvalidInvitation,
    InvalidTransition,
    InvitationConflict,
    InvitationNotFound,
)
from app.invitations.issued import Issued
from app.lookup import by_public_id
from app.messages import invitations as invitation_messages
from app.models import Account, Client, Group, Invitation, Role, utcnow

#: Shortest ``expires_in`` accepted (seconds).
MIN_LIFETIME = 60
NAME_LENGTH = 128


@dataclass
class InvitationInput:
    """What a caller may set when creating an invitation (spec §3.1)."""

    email: str | None = None
    mobile_number: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    client_id: str | None = None
    redirect_url: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    public_metadata: dict[str, Any] = field(default_factory=dict)
    allow_same_email: bool = False
    #: The caller vouches that the email is the person's (the edge checks the right).
    email_verified: bool = False
    template_key: str | None = None
    lang: str | None = None
    notify: bool = True
    expires_in: int | None = None


# -- reading ---------------------------------------------------------------------------


def find(public_id: str) -> Invitation:
    """The invitation with this public id; InvitationNotFound otherwise."""
    invitation = by_public_id(Invitation, public_id)
    if invitation is None:
        raise InvitationNotFound(f"no invitation {public_id}")
    return invitation


def find_by_token(token: str | None) -> Invitation | None:
    """The invitation whose secret token this is, if any."""
    if not token or len(token) > 128:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_secret(token)))


def state_of(invitation: Invitation) -> str:
    """The invitation's state now (a pending one past its expiry is ``expired``)."""
    return states.effective_state(invitation, utcnow())


def shows_link_to(invitation: Invitation, actor: str) -> bool:
    """Whether a resend may answer its new link to ``actor``: not when the invitation
    sends its own messages and ``actor`` did not create it (the link then reaches the
    invited address only)."""
    return not invitation.notify or invitation.invited_by == actor


def proven_addresses(invitation: Invitation) -> set[str]:
    """The invited email or number that registration may mark verified: those the
    invitation's message was delivered to, and the email its creator vouched for."""
    proven = invitation_messages.delivered_to(invitation)
    if invitation.email_verified and invitation.email:
        proven.add(invitation.email)
    return proven


# -- creating --------------------------------------------------------------------------


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
        raise _duplicate(data) from None
    return issued


def check(data: InvitationInput, accept_languages: list[str] | None = None) -> None:
    """Apply ``create``'s rules to ``data`` without writing anything (a bulk preview).

    A pending invitation past its expiry does not count as a duplicate: ``add`` would
    mark it expired first.
    """
    now = utcnow()
    _refuse_duplicates(_validated(data, accept_languages or [], now), now)


def add(data: InvitationInput, actor: str, accept_languages: list[str] | None = None) -> Issued:
    """Validate and add one invitation to the session (flushed, not committed)."""
    now = utcnow()
    values = _validated(data, accept_languages or [], now)
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
    return _notified(Issued(invitation, token))


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
            results.append(_duplicate(item))
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


def _validated(data: InvitationInput, accept_languages: list[str], now) -> dict[str, Any]:
    email = _email(data.email)
    mobile = _mobile(data.mobile_number)
    if not email and not mobile:
        raise InvalidInvitation("email", "an email or a mobile_number is required")
    client = _client(data.client_id)
    template_key = data.template_key or current_app.config["DEFAULT_TEMPLATE_KEY"]
    if template_key not in catalog.template_keys():
        raise InvalidInvitation("template_key", f"unknown template key {template_key!r}")
    if data.allow_same_email and not email:
        raise InvalidInvitation("allow_same_email", "needs an email to fix")
    if data.email_verified and not email:
        raise InvalidInvitation("email_verified", "needs an email to vouch for")
    roles = _named(Role, "roles", data.roles)
    bound = _binds_to_email(roles, email)
    return {
        "email": email,
        "mobile_number": mobile,
        "given_name": _name("given_name", data.given_name),
        "family_name": _name("family_name", data.family_name),
        "client": client,
        "redirect_url": _redirect_url(data.redirect_url, client),
        "groups": _named(Group, "groups", data.groups),
        "roles": roles,
        "custom_fields": _json_object("custom_fields", data.custom_fields),
        "public_metadata": _json_object("public_metadata", data.public_metadata),
        "allow_same_email": bool(data.allow_same_email or bound),
        "email_verified": bool(data.email_verified),
        "template_key": template_key,
        "lang": _lang(template_key, data.lang, accept_languages),
        "notify": bool(data.notify),
        "expires_at": now + timedelta(seconds=_lifetime(data.expires_in)),
        "pending_key": _pending_key(email or mobile, client),
    }


def _binds_to_email(roles: list[Role], email: str | None) -> bool:
    """Whether ``roles`` include a built-in one, which binds the invitation to its email
    (only that person may take admin powers); without an email that is refused."""
    built_in = sorted(role.name for role in roles if role.name in BUILT_IN_ROLES)
    if built_in and not email:
        raise InvalidInvitation(
            "email",
            f"an invitation granting the built-in role {', '.join(built_in)} needs an "
            "email to bind to",
        )
    return bool(built_in)


def _email(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_email(value)
    except AccountError as exc:
        raise InvalidInvitation("email", str(exc)) from None


def _mobile(value: str | None) -> str | None:
    try:
        return normalise_phone(value)
    except AccountError:
        raise InvalidInvitation(
            "mobile_number", "must be an E.164 number such as +4915112345678"
        ) from None


def _name(field_name: str, value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > NAME_LENGTH:
        raise InvalidInvitation(field_name, f"at most {NAME_LENGTH} characters")
    if value is not None and "\x00" in value:
        raise InvalidInvitation(field_name, "must not contain NUL characters")
    return value


def _client(client_id: str | None) -> Client | None:
    if not client_id:
        return None
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise InvalidInvitation("client_id", f"unknown client {client_id!r}")
    if not client.initiate_login_uri:
        raise InvalidInvitation("client_id", "the client has no initiate_login_uri registered")
    return client


def _redirect_url(url: str | None, client: Client | None) -> str | None:
    if not url:
        return None
    if client is not None:
        raise InvalidInvitation("redirect_url", "only for invitations without a client")
    if not links.redirect_allowed(url):
        raise InvalidInvitation("redirect_url", "not on the configured allow-list")
    return url


def _named(model, field_name: str, names: list[str]) -> list:
    return _as_invalid(field_name, resolve_names, model, field_name, names)


def _json_object(field_name: str, value: dict | None) -> dict:
    return _as_invalid(field_name, json_object, field_name, value)


def _as_invalid(field_name: str, check, *args):
    """Run an account-side validator, reporting its refusal as an invitation field error."""
    try:
        return check(*args)
    except AccountError as exc:
        raise InvalidInvitation(field_name, exc.description, prefixed=False) from None


def _lang(template_key: str, lang: str | None, accept_languages: list[str]) -> str:
    available = catalog.languages(template_key)
    if lang:
        if lang not in available:
            raise InvalidInvitation("lang", f"no {template_key!r} template in {lang!r}")
        return lang
    for candidate in accept_languages:
        if candidate in available:
            return candidate
    default = current_app.config["DEFAULT_LANG"]
    return default if default in available else sorted(available)[0]


def _lifetime(expires_in: int | None) -> int:
    if expires_in is None:
        return current_app.config["INVITATION_LIFETIME"]
    maximum = current_app.config["INVITATION_MAX_LIFETIME"]
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise InvalidInvitation("expires_in", "must be a whole number of seconds")
    if not MIN_LIFETIME <= expires_in <= maximum:
        raise InvalidInvitation("expires_in", f"must be between {MIN_LIFETIME} and {maximum}")
    return expires_in


def _pending_key(address: str, client: Client | None) -> str:
    return f"{address}|{client.client_id if client else '-'}"


def _expire_stale(pending_key: str) -> None:
    stale = db.session.scalar(
        select(Invitation).where(
            Invitation.pending_key == pending_key, Invitation.expires_at <= utcnow()
        )
    )
    if stale is not None:
        _apply(stale, "expire", "system")


def _refuse_duplicates(values: dict[str, Any], now: datetime | None = None) -> None:
    """Refuse a pending invitation for the same address and client (with ``now``: one
    still pending at ``now``), or an account holding the address."""
    same = select(Invitation.public_id).where(Invitation.pending_key == values["pending_key"])
    pending = db.session.scalar(same if now is None else same.where(Invitation.expires_at > now))
    if pending is not None:
        raise InvitationConflict(
            "a pending invitation for this address and client exists", invitation_id=pending
        )
    checks = [(Account.email, values["email"]), (Account.phone_number, values["mobile_number"])]
    for column, value in checks:
        if value and db.session.scalar(select(Account.id).where(column == value)) is not None:
            raise InvitationConflict("this address already belongs to an account")


def _duplicate(data: InvitationInput) -> InvitationConflict:
    """The conflict to report when a concurrent create won the unique pending key."""
    return InvitationConflict("a pending invitation for this address and client exists")


def _notified(issued: Issued) -> Issued:
    """Queue the invitation's message in this transaction, unless ``notify`` is off (§2.3)."""
    if issued.invitation.notify:
        invitation_messages.queue_invitation(issued)
    return issued


# -- changing --------------------------------------------------------------------------


def resend(public_id: str, actor: str) -> Issued:
    """A fresh token and short link (the old ones stop working); the expiry restarts."""
    invitation = find(public_id)
    token = new_secret(24)
    now = utcnow()
    lifetime = invitation.expires_at - invitation.created_at
    _apply(
        invitation,
        "resend",
        actor,
        token_hash=hash_secret(token),
        short_link_expires_at=now + timedelta(seconds=current_app.config["SHORT_LINK_LIFETIME"]),
        expires_at=now + lifetime,
        resent_count=invitation.resent_count + 1,
    )
    issued = _notified(Issued(invitation, token))
    db.session.commit()
    return issued


def revoke(public_id: str, actor: str) -> Invitation:
    """Revoke a pending invitation; its links stop working."""
    invitation = find(public_id)
    _apply(invitation, "revoke", actor)
    db.session.commit()
    return invitation


def reject(invitation: Invitation, actor: str) -> Invitation:
    """The invited person declined (spec §2: decline from the registration page)."""
    _apply(invitation, "reject", actor)
    db.session.commit()
    return invitation


def accept(invitation: Invitation, account_sub: str, actor: str) -> Invitation:
    """Mark accepted by ``account_sub`` (not committed: the caller commits it together
    with the new account). Of concurrent acceptances exactly one succeeds; the others
    raise InvalidTransition."""
    _apply(invitation, "accept", actor, accepted_sub=account_sub, sub=account_sub)
    return invitation


def expire_due(limit: int = 1000) -> int:
    """Mark pending invitations past their expiry as expired (with events); returns how many."""
    due = list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.state.in_(states.PENDING), Invitation.expires_at <= utcnow())
            .limit(limit)
        )
    )
    for invitation in due:
        _apply(invitation, "expire", "system")
    db.session.commit()
    return len(due)


def _apply(invitation: Invitation, action: str, actor: str, sub: str | None = None, **values):
    """Move ``invitation`` through ``action`` atomically and record the event.

    The UPDATE matches the state read before, so of two concurrent changes one wins
    and the other gets InvalidTransition.
    """
    now = utcnow()
    before = invitation.state
    current = states.effective_state(invitation, now) if action != "expire" else before
    new_state, event_type = states.target(current, action)
    values["state"] = new_state
    if new_state in states.TERMINAL:
        values["pending_key"] = None
    if new_state in states.STAMPS:
        values[states.STAMPS[new_state]] = now
    stmt = update(Invitation).where(Invitation.id == invitation.id, Invitation.state == before)
    if action != "expire":
        stmt = stmt.where(Invitation.expires_at > now)
    changed = db.session.execute(
        stmt.values(**values).execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        raise InvalidTransition("the invitation changed meanwhile; reload it", state=before)
    data = {"sub": sub} if sub else {}
    events.record(
        event_type, actor, invitation=invitation, from_state=before, to_state=new_state, **data
    )
