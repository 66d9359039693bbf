"""Recovering from a long outage: deliveries that went ``dead`` meanwhile are tried
again in bulk, chosen by when they died, their kind and (webhooks) their endpoint.

A retried item starts afresh, as a single retry does (``queue.requeue``): pending
from now, its attempts back to zero, its public id and attempt log kept.
Deliveries to a disabled endpoint stay dead (they would die again at once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update

from app import events
from app.errors import Conflict, DomainError
from app.extensions import db
from app.lookup import by_public_id
from app.models import OutboxItem, WebhookEndpoint, utcnow
from app.outbox.queue import DEAD, KINDS, PENDING

#: The states a bulk retry takes items from.
RETRYABLE = (DEAD,)
#: A duration back from now: a whole number and a unit (seconds to weeks).
_DURATION = re.compile(r"([1-9][0-9]{0,6})\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class RetryRefused(DomainError):
    """A bulk retry whose filter cannot be used (400); nothing was changed."""


@dataclass(frozen=True)
class RetryFilter:
    """Which dead items to retry: dead since ``since``, of ``kind``, to an endpoint."""

    since: datetime
    kind: str | None = None
    endpoint: WebhookEndpoint | None = None


def retry_filter(
    state: str, since: str, kind: str | None = None, endpoint: str | None = None
) -> RetryFilter:
    """Check a filter as people write it; RetryRefused (or Conflict) says what is wrong."""
    if state not in RETRYABLE:
        raise RetryRefused(f"state: only {', '.join(RETRYABLE)} items are retried", field="state")
    if kind is not None and kind not in KINDS:
        raise RetryRefused(f"kind: one of {', '.join(KINDS)}", field="kind")
    if endpoint is None:
        return RetryFilter(parse_since(since), kind)
    return RetryFilter(parse_since(since), "webhook", _endpoint(endpoint, kind))


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC unless it names a zone), or a duration back from now:
    ``90m``, ``36h``, ``7d``, ``2w``. Not in the future."""
    now = now or utcnow()
    value = (text or "").strip()
    match = _DURATION.fullmatch(value.lower())
    if match:
        return now - timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RetryRefused(
            f"since: an ISO 8601 time (2026-12-01T08:00Z) or a duration such as 90m, 36h, "
            f"7d or 2w, not {value[:40]!r}",
            field="since",
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment > now:
        raise RetryRefused("since: a time in the past", field="since")
    return moment


def count_dead(chosen: RetryFilter) -> int:
    """How many items ``retry_dead`` would bring back now."""
    query = select(func.count()).select_from(OutboxItem).where(*_matching(chosen))
    return db.session.scalar(query) or 0


def retry_dead(chosen: RetryFilter, actor: str) -> int:
    """Make every matching dead item pending again from now, record who did it in the
    audit log, and commit; returns how many."""
    now = utcnow()
    count = db.session.execute(
        update(OutboxItem)
        .where(*_matching(chosen))
        .values(
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
            locked_by=None,
            dead_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    events.record("outbox.retried", actor, count=count, **_described(chosen))
    db.session.commit()
    return count


def _matching(chosen: RetryFilter) -> list:
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    conditions = [
        OutboxItem.state == DEAD,
        OutboxItem.dead_at >= chosen.since,
        or_(OutboxItem.endpoint_id.is_(None), OutboxItem.endpoint_id.in_(enabled)),
    ]
    if chosen.kind is not None:
        conditions.append(OutboxItem.kind == chosen.kind)
    if chosen.endpoint is not None:
        conditions.append(OutboxItem.endpoint_id == chosen.endpoint.id)
    return conditions


def _endpoint(public_id: str, kind: str | None) -> WebhookEndpoint:
    if kind not in (None, "webhook"):
        raise RetryRefused("endpoint: only webhook deliveries have an endpoint", field="endpoint")
    endpoint = by_public_id(WebhookEndpoint, public_id)
    if endpoint is None:
        raise RetryRefused(f"endpoint: no webhook endpoint {public_id[:64]}", field="endpoint")
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it before retrying its deliveries")
    return endpoint


def _described(chosen: RetryFilter) -> dict:
    """The filter for the audit log."""
    described = {"since": chosen.since.isoformat(), "kind": chosen.kind}
    if chosen.endpoint is not None:
        described["endpoint_id"] = chosen.endpoint.public_id
    return described
