"""(a) Creating invitations through the admin API: ``POST /api/v1/invitations/bulk`` in
batches of 1,000 (or, where that route does not exist, ``POST /api/v1/invitations``
one by one), reported as invitations per second."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask

from app.clients.service import create_client
from app.extensions import db
from app.models import Group
from bench.harness import has_route, machine_headers, progress

BULK_PATH = "/api/v1/invitations/bulk"
SINGLE_PATH = "/api/v1/invitations"
GROUPS = ("staff", "beta", "partners")


@dataclass
class BulkResult:
    """How a run went."""

    route: str
    created: int
    failed: int
    seconds: float
    #: Why the run stopped before ``count`` (time budget), if it did.
    note: str = ""

    @property
    def per_second(self) -> float:
        """Invitations created per second of wall time."""
        return self.created / self.seconds if self.seconds else 0.0


def run(app: Flask, count: int, batch: int, max_seconds: float) -> BulkResult:
    """Create ``count`` invitations through the API within ``max_seconds``."""
    headers = machine_headers(app)
    _catalogue(app)
    rows = [_row(i) for i in range(count)]
    if has_route(app, BULK_PATH, "POST"):
        return _bulk(app, headers, rows, batch, max_seconds)
    return _one_by_one(app, headers, rows, max_seconds)


def _catalogue(app: Flask) -> None:
    """The client and groups the invitations name."""
    with app.app_context():
        create_client(
            "Bench shop",
            ["https://shop.example/cb"],
            client_id="bench-shop",
            initiate_login_uri="https://shop.example/login",
        )
        db.session.add_all(Group(name=name) for name in GROUPS)
        db.session.commit()


def _row(i: int) -> dict:
    return {
        "email": f"bench.person{i}@example.com",
        "given_name": "Bench",
        "family_name": f"Person {i}",
        "client_id": "bench-shop",
        "groups": [GROUPS[i % len(GROUPS)]],
        "notify": False,
    }


def _bulk(app: Flask, headers: dict, rows: list[dict], batch: int, max_seconds: float):
    client = app.test_client()
    created = failed = 0
    note = ""
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        if time.perf_counter() - started > max_seconds:
            note = f"stopped after {max_seconds:.0f} s"
            break
        response = client.post(
            BULK_PATH, json={"invitations": rows[start : start + batch]}, headers=headers
        )
        if response.status_code >= 300:
            raise RuntimeError(f"bulk answered {response.status_code}: {response.get_data()[:300]}")
        body = response.get_json()
        created += body["created"]
        failed += body["failed"]
        progress(f"bulk: {created + failed:,}/{len(rows):,}")
    return BulkResult(f"{BULK_PATH} x{batch}", created, failed, time.perf_counter() - started, note)


def _one_by_one(app: Flask, headers: dict, rows: list[dict], max_seconds: float):
    client = app.test_client()
    created = failed = 0
    note = f"{BULK_PATH} not found: one request per invitation"
    started = time.perf_counter()
    for row in rows:
        if time.perf_counter() - started > max_seconds:
            note += f"; stopped after {max_seconds:.0f} s"
            break
        response = client.post(SINGLE_PATH, json=row, headers=headers)
        if response.status_code == 201:
            created += 1
        else:
            failed += 1
    return BulkResult(SINGLE_PATH, created, failed, time.perf_counter() - started, note)
