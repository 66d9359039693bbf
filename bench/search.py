"""(b) Filtered search: p50/p95 latency of ``GET /api/v1/invitations`` over a large,
varied table (spec §3.3 filters), on PostgreSQL."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import insert, text

from app.clients.service import create_client
from app.crypto import hash_secret
from app.extensions import db
from app.models import Group, Invitation, invitation_groups, utcnow
from bench.harness import Latency, SqlClock, machine_headers, progress

LIST_PATH = "/api/v1/invitations"
CLIENTS = [f"client-{n:02d}" for n in range(20)]
GROUPS = [f"group-{n:02d}" for n in range(30)]
GIVEN = "anna ben clara david emma felix greta hans ida jonas karl lena max nora otto paula"
FAMILY = "mueller schmidt schneider fischer weber meyer wagner becker schulz hoffmann koch"
DOMAINS = [f"company{n}.example" for n in range(40)] + ["gmail.example", "web.example"]
ACTORS = ["client:backoffice", "cli", *[f"account:admin-{n}" for n in range(5)]]
#: (state, share of rows)
STATE_MIX = [
    ("initiated", 35),
    ("reinitiated", 7),
    ("accepted", 33),
    ("revoked", 8),
    ("rejected", 4),
    ("expired", 13),
]
INSERT_CHUNK = 5000


def seed(app: Flask, count: int, rng: random.Random) -> list[dict]:
    """Insert ``count`` varied invitations with plain SQL inserts; returns their rows."""
    now = utcnow()
    with app.app_context():
        for client_id in CLIENTS:
            create_client(
                client_id,
                ["https://rp.example/cb"],
                client_id=client_id,
                initiate_login_uri=f"https://{client_id}.example/login",
            )
        db.session.add_all(Group(name=name) for name in GROUPS)
        db.session.commit()
        client_pks = dict(db.session.execute(text("select client_id, id from clients")).all())
        group_pks = dict(db.session.execute(text("select name, id from groups")).all())
        progress(f"search: inserting {count:,} invitations")
        rows = [_row(i, now, rng, client_pks) for i in range(count)]
        links = [
            {"invitation_id": i + 1, "group_id": group_pks[name]}
            for i in range(count)
            for name in rng.sample(GROUPS, rng.choice((0, 1, 1, 2)))
        ]
        for start in range(0, count, INSERT_CHUNK):
            db.session.execute(insert(Invitation), rows[start : start + INSERT_CHUNK])
        for start in range(0, len(links), INSERT_CHUNK):
            db.session.execute(insert(invitation_groups), links[start : start + INSERT_CHUNK])
        if db.engine.dialect.name == "postgresql":
            # Explicit ids leave the sequence behind; later inserts must not collide.
            db.session.execute(
                text("select setval(pg_get_serial_sequence('invitations', 'id'), :last)"),
                {"last": count},
            )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("analyze"))
            db.session.commit()
    return rows


def _row(i: int, now: datetime, rng: random.Random, client_pks: dict) -> dict:
    state = rng.choices([s for s, _ in STATE_MIX], [w for _, w in STATE_MIX])[0]
    given, family = rng.choice(GIVEN.split()), rng.choice(FAMILY.split())
    created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
    client = rng.choice(CLIENTS[:3] * 5 + CLIENTS) if rng.random() < 0.9 else None
    kind = rng.random()
    email = f"{given}.{family}.{i}@{rng.choice(DOMAINS)}" if kind > 0.05 else None
    mobile = f"+4915{i:09d}" if kind < 0.2 else None
    decided = created + timedelta(seconds=rng.uniform(3600, 10 * 86400))
    return {
        "id": i + 1,
        "public_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "token_hash": hash_secret(f"bench-token-{i}"),
        "short_link_expires_at": created + timedelta(days=7),
        "email": email,
        "mobile_number": mobile,
        "given_name": given.title(),
        "family_name": family.title(),
        "client_id": client_pks[client] if client else None,
        "custom_fields": {},
        "public_metadata": {},
        "allow_same_email": False,
        "template_key": "invite_user",
        "lang": rng.choice(("en", "en", "de")),
        "notify": True,
        "state": state,
        "pending_key": f"{email or mobile}|{client or '-'}"
        if state.endswith("initiated")
        else None,
        "invited_by": rng.choice(ACTORS),
        "created_at": created,
        "resent_count": 1 if state == "reinitiated" else 0,
        "accepted_at": decided if state == "accepted" else None,
        "accepted_sub": f"sub-{i}" if state == "accepted" else None,
        "revoked_at": decided if state == "revoked" else None,
        "rejected_at": decided if state == "rejected" else None,
        "expires_at": created + timedelta(days=30),
    }


def filter_cases(rows: list[dict], rng: random.Random) -> dict[str, Callable[[], dict]]:
    """Filter name -> a function drawing that filter's query parameters afresh."""
    emails = [row["email"] for row in rng.sample(rows, 500) if row["email"]]
    now = utcnow()

    def window(days: int) -> dict:
        end = now - timedelta(days=rng.uniform(0, 365 - days))
        return {
            "created_after": (end - timedelta(days=days)).isoformat(),
            "created_before": end.isoformat(),
        }

    return {
        "no filter (newest 50)": lambda: {},
        "state": lambda: {"state": rng.choice([s for s, _ in STATE_MIX])},
        "client_id": lambda: {"client_id": rng.choice(CLIENTS)},
        "group": lambda: {"group": rng.choice(GROUPS)},
        "email (exact)": lambda: {"email": rng.choice(emails)},
        "q: email prefix": lambda: {"q": rng.choice(emails)[:12]},
        "q: name part": lambda: {"q": rng.choice(FAMILY.split())[:5]},
        "created range (7 days)": lambda: window(7),
        "state + client + 90 days": lambda: {
            "state": rng.choice(("accepted", "expired", "revoked")),
            "client_id": rng.choice(CLIENTS),
            **window(90),
        },
        "sort expires_at, page 2": lambda: {"sort": "expires_at", "_page": 2},
    }


def measure(
    app: Flask, cases: dict[str, Callable[[], dict]], requests: int, max_seconds: float
) -> dict[str, tuple[Latency, Latency, int]]:
    """Per filter: request latencies, the SQL part of them, and the mean rows found."""
    headers = machine_headers(app, "invitations:read")
    client = app.test_client()
    with app.app_context():
        clock = SqlClock(db.engine)
    results = {}
    for name, draw in cases.items():
        progress(f"search: {name}")
        samples, sql, found = [], [], 0
        deadline = time.perf_counter() + max_seconds
        while len(samples) < requests and time.perf_counter() < deadline:
            params = draw()
            if params.pop("_page", 1) == 2:
                first = client.get(LIST_PATH, query_string=params, headers=headers)
                params["cursor"] = _ok(first)["next_cursor"]
            clock.reset()
            started = time.perf_counter()
            response = client.get(LIST_PATH, query_string=params, headers=headers)
            samples.append(time.perf_counter() - started)
            sql.append(clock.spent)
            found += len(_ok(response)["items"])
        results[name] = (Latency(samples), Latency(sql), found // max(1, len(samples)))
    return results


def _ok(response) -> dict:
    if response.status_code != 200:
        raise RuntimeError(f"search answered {response.status_code}: {response.get_data()[:300]}")
    return response.get_json()
