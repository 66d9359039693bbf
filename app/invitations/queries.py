"""Finding and counting invitations (spec §3.3 list and stats). No request in here:
callers pass a ``Search``; states are the effective ones (a pending invitation past
``expires_at`` counts as expired even before the sweep marks it)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.invitations import states
from app.models import Client, Event, Group, Invitation, invitation_groups, utcnow
from app.pagination import Page, keyset_page

#: sort parameter -> (column, descending)
SORTS = {
    "created_at": ("created_at", False),
    "-created_at": ("created_at", True),
    "expires_at": ("expires_at", False),
    "-expires_at": ("expires_at", True),
}
DEFAULT_SORT = "-created_at"
MAX_LIMIT = 200


@dataclass
class Search:
    """Filters, sort and page of an invitation search; ``None`` means "any"."""

    state: str | None = None
    email: str | None = None
    mobile_number: str | None = None
    group: str | None = None
    client_id: str | None = None
    invited_by: str | None = None
    #: created_at >= created_after and < created_before (likewise for expires_*).
    created_after: datetime | None = None
    created_before: datetime | None = None
    expires_after: datetime | None = None
    expires_before: datetime | None = None
    #: Case-insensitive substring of email, mobile number, given or family name.
    q: str | None = None
    sort: str = DEFAULT_SORT
    limit: int = 50
    #: Where the previous page ended: its ``next_after`` (sort value, id).
    after: tuple[Any, ...] | None = None


def search(criteria: Search) -> Page:
    """The page of invitations matching ``criteria``, in a stable order (sort value, id)."""
    column_name, descending = SORTS[criteria.sort]
    stmt = _filtered(select(Invitation), criteria, utcnow()).options(
        joinedload(Invitation.client),
        selectinload(Invitation.groups),
        selectinload(Invitation.roles),
    )
    key = (getattr(Invitation, column_name), Invitation.id)
    limit = max(1, min(criteria.limit, MAX_LIMIT))
    return keyset_page(stmt, key, criteria.after, limit, descending)


def listed_as(sort: str) -> str:
    """The list name an invitation cursor carries: one per sort order, so a cursor made
    for one order is refused by another."""
    return f"invitations?sort={sort}"


def _filtered(stmt: Select, criteria: Search, now: datetime) -> Select:
    conditions: list[ColumnElement[bool]] = []
    if criteria.state:
        conditions.append(state_is(criteria.state, now))
    if criteria.email:
        conditions.append(Invitation.email == criteria.email.strip().lower())
    if criteria.mobile_number:
        conditions.append(Invitation.mobile_number == "".join(criteria.mobile_number.split()))
    if criteria.group:
        conditions.append(Invitation.groups.any(Group.name == criteria.group))
    if criteria.client_id:
        client = select(Client.id).where(Client.client_id == criteria.client_id)
        conditions.append(Invitation.client_id == client.scalar_subquery())
    if criteria.invited_by:
        conditions.append(Invitation.invited_by == criteria.invited_by)
    conditions += _ranges(criteria)
    if criteria.q:
        conditions.append(_text_matches(criteria.q))
    return stmt.where(*conditions)


def state_is(state: str, now: datetime) -> ColumnElement[bool]:
    """SQL for "the invitation's effective state is ``state``"."""
    if state in states.PENDING:
        return and_(Invitation.state == state, Invitation.expires_at > now)
    if state == states.EXPIRED:
        lapsed = and_(Invitation.state.in_(states.PENDING), Invitation.expires_at <= now)
        return or_(Invitation.state == states.EXPIRED, lapsed)
    return Invitation.state == state


def _ranges(criteria: Search) -> list[ColumnElement[bool]]:
    bounds = [
        (Invitation.created_at, criteria.created_after, criteria.created_before),
        (Invitation.expires_at, criteria.expires_after, criteria.expires_before),
    ]
    conditions: list[ColumnElement[bool]] = []
    for column, after, before in bounds:
        if after is not None:
            conditions.append(column >= after)
        if before is not None:
            conditions.append(column < before)
    return conditions


def _text_matches(text: str) -> ColumnElement[bool]:
    # ILIKE '%…%' is served on PostgreSQL by the trigram indexes of models/invitations.py.
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    columns = (
        Invitation.email,
        Invitation.mobile_number,
        Invitation.given_name,
        Invitation.family_name,
    )
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def history(invitation: Invitation) -> list[Event]:
    """The invitation's events (spec §3.2: every transition, with actor and time), oldest first."""
    return list(
        db.session.scalars(
            select(Event).where(Event.invitation_id == invitation.id).order_by(Event.id)
        )
    )


# -- stats -----------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts by effective state and the times it took to accept."""

    by_state: dict[str, int] = field(default_factory=lambda: dict.fromkeys(states.STATES, 0))
    accept_seconds: list[float] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every invitation counted."""
        return sum(self.by_state.values())

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among the decided (no longer pending) ones; None when none is decided."""
        decided = sum(self.by_state[state] for state in states.TERMINAL)
        return self.by_state[states.ACCEPTED] / decided if decided else None

    @property
    def median_seconds_to_accept(self) -> float | None:
        """Median of accepted_at - created_at over accepted invitations."""
        return statistics.median(self.accept_seconds) if self.accept_seconds else None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the API."""
        return {
            "total": self.total,
            "by_state": dict(sorted(self.by_state.items())),
            "acceptance_rate": self.acceptance_rate,
            "median_seconds_to_accept": self.median_seconds_to_accept,
        }


@dataclass
class Stats:
    """All invitations, and the same per client (None: client-less) and per group."""

    overall: Tally
    by_client: dict[str | None, Tally]
    by_group: dict[str, Tally]


def stats() -> Stats:
    """Counts by effective state, acceptance rate and median time to accept."""
    now = utcnow()
    by_client = _tallies(Client.client_id, now, group_join=False)
    by_group = _tallies(Group.name, now, group_join=True)
    overall = Tally()
    for tally in by_client.values():
        for state, count in tally.by_state.items():
            overall.by_state[state] += count
        overall.accept_seconds += tally.accept_seconds
    return Stats(overall, by_client, by_group)


def _tallies(key: Any, now: datetime, group_join: bool) -> dict[Any, Tally]:
    """One Tally per value of ``key`` (a client's client_id or a group's name)."""
    effective = case(
        (and_(Invitation.state.in_(states.PENDING), Invitation.expires_at <= now), "expired"),
        else_=Invitation.state,
    )
    rows = select(key.label("key"), effective.label("state"), Invitation.id)
    rows = _join_key(rows, group_join).subquery()
    counts = select(rows.c.key, rows.c.state, func.count()).group_by(rows.c.key, rows.c.state)
    tallies: dict[Any, Tally] = defaultdict(Tally)
    for value, state, count in db.session.execute(counts):
        tallies[value].by_state[state] += count
    accepted = select(key, Invitation.created_at, Invitation.accepted_at).where(
        Invitation.state == states.ACCEPTED, Invitation.accepted_at.is_not(None)
    )
    for value, created_at, accepted_at in db.session.execute(_join_key(accepted, group_join)):
        tallies[value].accept_seconds.append((accepted_at - created_at).total_seconds())
    return dict(tallies)


def _join_key(stmt: Select, group_join: bool) -> Select:
    if group_join:
        return stmt.select_from(Invitation).join(invitation_groups).join(Group)
    return stmt.select_from(Invitation).outerjoin(Client, Invitation.client_id == Client.id)
