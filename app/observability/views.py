"""``/healthz`` (the process answers), ``/readyz`` (it can serve: for load balancers)
and ``/metrics`` (Prometheus; for an allowed network or a machine's bearer token
holding ``metrics:read``). None is rate limited, none touches the session."""

from __future__ import annotations

import ipaddress

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from app.extensions import db, limiter
from app.oauth.server import bearer_token
from app.observability import metrics
from app.observability.health import RETRY_AFTER, readiness

bp = Blueprint("observability", __name__)
limiter.exempt(bp)

_NETWORKS = "vestibule_metrics_networks"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@bp.get("/healthz")
def healthz():
    """The process is alive; no dependency is asked."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 when every required check passes, else 503 with Retry-After."""
    checks = readiness().run(db.engine)
    ready = all(check.ok for check in checks.values() if check.required)
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    if ready:
        return jsonify(body)
    return jsonify(body), 503, {"Retry-After": str(RETRY_AFTER)}


@bp.get("/metrics")
def scrape():
    """The Prometheus text exposition, for allowed callers only."""
    if not _from_allowed_network():
        token = bearer_token(metrics.METRICS_SCOPE)
        if token.account is not None:  # a person's token, whatever its scopes
            description = "only a client's own token may read the metrics"
            return jsonify(error="access_denied", error_description=description), 403
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _from_allowed_network() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in current_app.extensions[_NETWORKS])


def parse_networks(value: str) -> list[Network]:
    """METRICS_ALLOW_FROM's CIDRs (space- or comma-separated); ValueError when one is not."""
    return [ipaddress.ip_network(part, strict=False) for part in value.replace(",", " ").split()]


def init_views(app: Flask) -> None:
    """Register the endpoints, with METRICS_ALLOW_FROM parsed (a typo stops start-up)."""
    from config import ConfigurationError

    try:
        app.extensions[_NETWORKS] = parse_networks(app.config["METRICS_ALLOW_FROM"])
    except ValueError as exc:
        raise ConfigurationError(f"METRICS_ALLOW_FROM: {exc}") from None
    app.register_blueprint(bp)
