"""The webhook circuit breaker: an endpoint that fails OUTBOX_BREAKER_THRESHOLD
deliveries in a row is parked for OUTBOX_BREAKER_PARK seconds.

While parked, its deliveries are not claimed: they wait without using attempts or
worker time (a receiver that is down would otherwise turn every queued delivery
``dead`` and hold a webhook thread per attempt). When the park ends the endpoint is
half-open: one delivery at a time probes it; a success closes the breaker, a failure
parks it again. The state lives on the endpoint's row, so every worker sees it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, or_, select, update

from app.extensions import db
from app.models import WebhookEndpoint

log = logging.getLogger(__name__)


def record(endpoint_id: int, ok: bool, now: datetime) -> None:
    """Count one delivery's outcome in the caller's transaction (not committed)."""
    if ok:
        _close(endpoint_id)
    else:
        _count_failure(endpoint_id, now)


def is_half_open(endpoint: WebhookEndpoint) -> bool:
    """Its last deliveries failed enough to park it, and the park is over: probe it."""
    return endpoint.consecutive_failures >= current_app.config["OUTBOX_BREAKER_THRESHOLD"]


def not_parked(now: datetime):
    """SQL condition: the endpoint's deliveries may be claimed now."""
    return or_(WebhookEndpoint.parked_until.is_(None), WebhookEndpoint.parked_until <= now)


def _close(endpoint_id: int) -> None:
    # Only a row that needs it is written: a healthy endpoint's deliveries add no
    # write (and no row lock) here.
    db.session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            or_(
                WebhookEndpoint.consecutive_failures != 0, WebhookEndpoint.parked_until.is_not(None)
            ),
        )
        .values(consecutive_failures=0, parked_until=None, **_KEEP_UPDATED_AT)
        .execution_options(synchronize_session=False)
    )


def _count_failure(endpoint_id: int, now: datetime) -> None:
    config = current_app.config
    threshold = config["OUTBOX_BREAKER_THRESHOLD"]
    until = now + timedelta(seconds=config["OUTBOX_BREAKER_PARK"])
    failures = WebhookEndpoint.consecutive_failures + 1
    # One statement, so failures counted at once by several threads or workers add up.
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(
            consecutive_failures=failures,
            parked_until=case((failures >= threshold, until), else_=WebhookEndpoint.parked_until),
            **_KEEP_UPDATED_AT,
        )
        .execution_options(synchronize_session=False)
    )
    failed = db.session.scalar(
        select(WebhookEndpoint.consecutive_failures).where(WebhookEndpoint.id == endpoint_id)
    )
    if failed is not None and failed >= threshold:
        log.warning(
            "webhook endpoint %s parked for %s s after %s failed deliveries in a row",
            endpoint_id,
            config["OUTBOX_BREAKER_PARK"],
            failed,
        )


#: updated_at says when an administrator last changed the endpoint's settings; the
#: breaker's bookkeeping must not touch it (the column has an onupdate).
_KEEP_UPDATED_AT = {"updated_at": WebhookEndpoint.updated_at}
