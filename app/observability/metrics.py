"""Prometheus metrics: what is counted, the ``record_*`` functions that count it, and
the text a scrape of ``/metrics`` returns.

Counters live in prometheus-client's default registry. Under gunicorn, with
``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts: prometheus-client reads
it at import), every worker writes its values to files in that folder and a scrape
adds them up, whichever worker answers it; without it, a scrape shows the answering
process only.

Label values are bounded: endpoint names (never raw paths), grant types, event
types and states that exist in the code; no user, client or address.

Domain events are counted from the session that commits them (``count_committed_events``),
so the services carry no metric code and a change that rolls back counts nothing: one
hook covers sign-ins, registrations and invitation state changes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event as sa_event
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

#: The scope a machine's bearer token needs to read /metrics.
METRICS_SCOPE = "metrics:read"
#: Grant types the token endpoint knows; any other value is counted as ``other``.
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: What the worker may do with an item after an attempt.
DELIVERY_OUTCOMES = ("sent", "retry", "dead")

HTTP_REQUESTS = Counter(
    "vestibule_http_requests",
    "HTTP requests answered, by endpoint name, method and status code.",
    ["endpoint", "method", "status"],
)
HTTP_DURATION = Histogram(
    "vestibule_http_request_duration_seconds",
    "Time from the first to the last request hook, by endpoint name.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TOKENS_ISSUED = Counter(
    "vestibule_tokens_issued", "Tokens issued by the token endpoint, by grant type.", ["grant_type"]
)
SIGN_INS = Counter(
    "vestibule_sign_ins",
    "Password checks on the sign-in forms, by outcome (success, failure).",
    ["outcome"],
)
REGISTRATIONS = Counter(
    "vestibule_registrations",
    "Accounts people created for themselves, with or without an invitation.",
    ["invited"],
)
INVITATION_TRANSITIONS = Counter(
    "vestibule_invitation_transitions",
    "Invitations entering a state (initiated, reinitiated, accepted, revoked, ...).",
    ["state"],
)
EVENTS = Counter("vestibule_events", "Domain events committed, by type.", ["type"])
DELIVERIES = Counter(
    "vestibule_outbox_deliveries",
    "Outbox delivery attempts by kind and what followed (sent, retry, dead).",
    ["kind", "outcome"],
)


def record_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request and observe its latency."""
    name = endpoint or "unmatched"
    HTTP_REQUESTS.labels(name, method if method in METHODS else "other", str(status)).inc()
    HTTP_DURATION.labels(name).observe(seconds)


def record_token_issued(grant_type: str | None) -> None:
    """Count one token response of the token endpoint."""
    TOKENS_ISSUED.labels(grant_type if grant_type in GRANT_TYPES else "other").inc()


def record_sign_in(success: bool) -> None:
    """Count one password check of a sign-in form."""
    SIGN_INS.labels("success" if success else "failure").inc()


def record_delivery(kind: str, outcome: str) -> None:
    """Count one delivery attempt: ``sent``, ``retry`` (scheduled again) or ``dead``."""
    DELIVERIES.labels(kind, outcome if outcome in DELIVERY_OUTCOMES else "retry").inc()


# -- domain events, counted when their transaction commits --------------------------------

_PENDING = "vestibule.metrics.events"


def record_event(type_: str, actor: str, data: dict[str, Any], to_state: str | None) -> None:
    """Count one committed domain event, and what it means for the other metrics."""
    EVENTS.labels(type_).inc()
    if type_ == "user.login":
        record_sign_in(True)
    elif type_ == "user.created" and actor == f"account:{data.get('sub')}":
        # Only a self-registration is recorded by the new account itself; an
        # administrator's or a machine's creation has their own actor.
        REGISTRATIONS.labels("true" if "invitation_id" in data else "false").inc()
    if type_.startswith("invitation.") and to_state:
        INVITATION_TRANSITIONS.labels(to_state).inc()


def count_committed_events(session_target: Any) -> None:
    """Count the ``Event`` rows a session commits (once per process and session factory)."""
    if sa_event.contains(session_target, "after_commit", _after_commit):
        return
    sa_event.listen(session_target, "after_flush", _after_flush)
    sa_event.listen(session_target, "after_commit", _after_commit)
    sa_event.listen(session_target, "after_rollback", _after_rollback)


def _after_flush(session, flush_context) -> None:
    from app.models import Event

    for obj in session.new:
        if isinstance(obj, Event):
            facts = (obj.type, obj.actor, dict(obj.data or {}), obj.to_state)
            session.info.setdefault(_PENDING, []).append((obj, facts))


def _after_commit(session) -> None:
    try:
        for obj, facts in session.info.pop(_PENDING, []):
            # An event added in a savepoint that was rolled back is transient again.
            if not inspect(obj).transient:
                record_event(*facts)
    except Exception:  # counting must never fail a change that is already committed
        log.exception("counting committed events failed")


def _after_rollback(session) -> None:
    session.info.pop(_PENDING, None)


# -- the outbox, read at scrape time --------------------------------------------------


class OutboxCollector:
    """Outbox depth (pending, dead) and the age of the oldest pending item, by kind,
    read with one query when scraped: right even when no worker runs (which is when
    it matters), the same from every instance, and nothing to keep in step."""

    def collect(self) -> Iterator[Metric]:
        from app.extensions import db
        from app.models import OutboxItem, utcnow
        from app.outbox.queue import DEAD, KINDS, PENDING

        query = (
            select(OutboxItem.kind, OutboxItem.state, func.count(), func.min(OutboxItem.created_at))
            .where(OutboxItem.state.in_((PENDING, DEAD)))
            .group_by(OutboxItem.kind, OutboxItem.state)
        )
        try:
            rows = db.session.execute(query).all()
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("outbox metrics unavailable: %s", type(exc).__name__)
            return
        found = {(kind, state): (count, oldest) for kind, state, count, oldest in rows}
        depth = GaugeMetricFamily(
            "vestibule_outbox_items",
            "Outbox items waiting (pending) or given up (dead).",
            labels=["kind", "state"],
        )
        age = GaugeMetricFamily(
            "vestibule_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending item was queued (0 when none).",
            labels=["kind"],
        )
        now = utcnow()
        for kind in KINDS:
            for state in (PENDING, DEAD):
                depth.add_metric([kind, state], found.get((kind, state), (0, None))[0])
            oldest = found.get((kind, PENDING), (0, None))[1]
            waited = (now - oldest) if oldest is not None else timedelta(0)
            age.add_metric([kind], max(0.0, waited.total_seconds()))
        yield depth
        yield age


class _Forward:
    """A registry's metrics, collected into another registry."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def exposition() -> tuple[bytes, str]:
    """The body and content type of a scrape, in the current app context."""
    registry = CollectorRegistry(auto_describe=False)
    directory = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(OutboxCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def init_metrics(app: Flask) -> None:
    """Count committed domain events of ``app``'s database session; with a multiprocess
    folder, make sure it exists (any command, not only gunicorn, may count something)."""
    from app.extensions import db

    if app.config["PROMETHEUS_MULTIPROC_DIR"]:
        os.makedirs(app.config["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    count_committed_events(db.session)
