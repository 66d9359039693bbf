"""Operating Vestibule: health and readiness endpoints, Prometheus metrics, request
ids and structured, redacted logs."""

from __future__ import annotations

from flask import Flask


def init_observability(app: Flask) -> None:
    """Logging, request tracking, metrics and the /healthz, /readyz, /metrics endpoints."""
    from app.observability.health import init_health
    from app.observability.logs import init_logging
    from app.observability.metrics import init_metrics
    from app.observability.tracking import init_tracking
    from app.observability.views import init_views

    init_logging(app)
    init_tracking(app)
    init_metrics(app)
    init_health(app)
    init_views(app)
