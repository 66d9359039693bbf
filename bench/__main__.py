"""``python -m bench``: run the benchmarks and print their tables (``make bench``).

(a) 10,000 invitations through the admin API on SQLite and PostgreSQL, in invitations
per second; (b) p50/p95 of filtered searches over 100,000 invitations on PostgreSQL;
(c) p50/p95 of an argon2id hash and of an invited registration, with the production
argon2 parameters, on SQLite and PostgreSQL (``--only registration``); (d) invitation
emails delivered by the outbox worker over SMTP to a local sink, in messages per second
(``--only messages``); (e) the endpoints over HTTP, served by gunicorn like production:
requests per second and server CPU milliseconds per request, against bare Flask JSON
(``--only http``; ``--http-tree`` serves another checkout's app, e.g. an older commit);
(f) invitation emails' delay while webhooks wait (``--only outbox-lanes``);
(g) the same endpoints' instructions per request in the app's process, counted by
valgrind's callgrind: unlike time, the same on a busy machine (``--only instructions``;
``--http-tree`` too).
PostgreSQL comes from BENCH_DATABASE_URL or TEST_DATABASE_URL (default a local
``test`` database); each run works in a private schema dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from bench import (
    bulk_create,
    http_rates,
    instructions,
    messages,
    outbox_lanes,
    registration,
    search,
)
from bench.harness import (
    bench_app,
    database_version,
    machine_notes,
    postgres_url,
    print_table,
)
from bench.served import ROOT, WORKERS, limits_storage
from tests.conftest import postgres_unreachable

BENCHMARKS = (
    "bulk-sqlite",
    "bulk-postgresql",
    "search",
    "registration",
    "messages",
    "http",
    "outbox-lanes",
    "instructions",
)
#: Benchmarks that cannot run at all without PostgreSQL.
POSTGRES_ONLY = ("bulk-postgresql", "search")


def main() -> None:
    """Parse the options and run the chosen benchmarks."""
    options = _parser().parse_args()
    chosen = options.only or list(BENCHMARKS)
    print(f"Vestibule benchmarks: {machine_notes()}")
    unreachable = postgres_unreachable(postgres_url())
    if unreachable and any(name != "bulk-sqlite" for name in chosen):
        print(f"PostgreSQL skipped ({postgres_url()}): {unreachable}")
        chosen = [name for name in chosen if name not in POSTGRES_ONLY]
    bulk_rows = [
        _bulk(backend, options)
        for backend in ("sqlite", "postgresql")
        if f"bulk-{backend}" in chosen
    ]
    if bulk_rows:
        print_table(
            f"(a) Creating {options.count:,} invitations through the admin API",
            ("database", "route", "created", "failed", "seconds", "invitations/s", "note"),
            bulk_rows,
        )
    if "search" in chosen:
        _search(options)
    if "registration" in chosen:
        _registration(options, ["sqlite"] if unreachable else ["sqlite", "postgresql"])
    if "messages" in chosen:
        _messages(options, ["sqlite"] if unreachable else ["sqlite", "postgresql"])
    if "http" in chosen:
        _http(options, ["sqlite"] if unreachable else ["sqlite", "postgresql"])
    if "outbox-lanes" in chosen:
        outbox_lanes.report(["sqlite"] if unreachable else ["sqlite", "postgresql"])
    if "instructions" in chosen:
        _instructions(options, ["sqlite"] if unreachable else ["sqlite", "postgresql"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="repeatable")
    parser.add_argument("--count", type=int, default=10_000, help="invitations to create")
    parser.add_argument("--batch", type=int, default=1_000, help="rows per bulk request")
    parser.add_argument("--search-rows", type=int, default=100_000, help="rows to search")
    parser.add_argument("--requests", type=int, default=200, help="searches per filter")
    parser.add_argument(
        "--max-seconds", type=float, default=300, help="time budget per run / per filter"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed of the data")
    parser.add_argument("--hashes", type=int, default=20, help="argon2id hashes to time")
    parser.add_argument(
        "--registrations", type=int, default=20, help="invited registrations to time"
    )
    parser.add_argument("--messages", type=int, default=2_000, help="invitation emails to send")
    parser.add_argument(
        "--http-seconds", type=float, default=4, help="seconds each endpoint is measured"
    )
    parser.add_argument(
        "--http-warmup", type=float, default=1, help="seconds of warm-up per endpoint"
    )
    parser.add_argument(
        "--http-connections", type=int, default=8, help="client connections (threads)"
    )
    parser.add_argument(
        "--instruction-requests",
        type=int,
        default=100,
        help="repetitions of each endpoint counted by callgrind",
    )
    parser.add_argument(
        "--http-tree",
        type=Path,
        default=ROOT,
        help="serve the app of this checkout (e.g. a worktree of an older commit)",
    )
    return parser


def _bulk(backend: str, options: argparse.Namespace) -> tuple:
    with bench_app(backend) as app:
        result = bulk_create.run(app, options.count, options.batch, options.max_seconds)
        return (
            database_version(app),
            result.route,
            result.created,
            result.failed,
            f"{result.seconds:.1f}",
            f"{result.per_second:,.0f}",
            result.note or "-",
        )


def _search(options: argparse.Namespace) -> None:
    rng = random.Random(options.seed)  # noqa: S311 - sample data, not secrets
    with bench_app("postgresql") as app:
        started = time.perf_counter()
        rows = search.seed(app, options.search_rows, rng)
        seeded = time.perf_counter() - started
        measured = search.measure(
            app, search.filter_cases(rows, rng), options.requests, options.max_seconds / 10
        )
        print_table(
            f"(b) GET /api/v1/invitations over {len(rows):,} invitations on "
            f"{database_version(app)} (seeded in {seeded:.0f} s; 50 rows per page). "
            "SQL: the time spent in the database during the request.",
            ("filter", "requests", "p50 ms", "p95 ms", "SQL p50 ms", "SQL p95 ms", "rows"),
            [
                (name, len(total.samples), *_ms(total), *_ms(sql), rows_found)
                for name, (total, sql, rows_found) in measured.items()
            ],
        )


def _registration(options: argparse.Namespace, backends: list[str]) -> None:
    rows = []
    for backend in backends:
        with bench_app(backend, **registration.PRODUCTION_ARGON2) as app:
            times = registration.run(app, options.hashes, options.registrations)
            version = database_version(app)
        rows += [
            (version, "argon2id hash", len(times.hashes.samples), *_ms(times.hashes)),
            (version, "POST /registration", len(times.submits.samples), *_ms(times.submits)),
            (version, "whole journey", len(times.journeys.samples), *_ms(times.journeys)),
        ]
    print_table(
        f"(c) Registration with production argon2id ({registration.argon2_label()}). "
        "Whole journey: GET /authorize with the invitation, the registration page, "
        "POST /registration and the redirect to the client (invitation made beforehand).",
        ("database", "measured", "samples", "p50 ms", "p95 ms"),
        rows,
    )


def _messages(options: argparse.Namespace, backends: list[str]) -> None:
    rows = []
    runs = [(backend, 1) for backend in backends]
    if "postgresql" in backends:
        runs.append(("postgresql", 4))  # SKIP LOCKED lets workers share the outbox
    for backend, workers in runs:
        with (
            messages.smtp_sink() as (sink, port),
            bench_app(backend, **messages.smtp_settings(port)) as app,
        ):
            result = messages.run(app, sink, options.messages, workers)
            version = database_version(app)
        rows.append(
            (
                version,
                result.workers,
                result.messages,
                f"{result.queue_seconds:.1f}",
                f"{result.deliver_seconds:.1f}",
                result.sent,
                result.received,
                f"{result.per_second:,.0f}",
            )
        )
    print_table(
        f"(d) {options.messages:,} invitation emails: queued by bulk create (notify on), then "
        "delivered by outbox workers (threads, batches of OUTBOX_BATCH) over plain SMTP to "
        "an aiosmtpd sink in this process; each worker thread reuses its SMTP connection.",
        ("database", "workers", "messages", "queue s", "deliver s", "sent", "received", "msg/s"),
        rows,
    )


def _http(options: argparse.Namespace, backends: list[str]) -> None:
    load = http_rates.Load(options.http_connections, options.http_seconds, options.http_warmup)
    load_average = http_rates.load_average()
    started = time.perf_counter()
    table, measured = [], []
    for backend in backends:
        # The reference is measured next to each database's rows: the machine is shared,
        # and its load moves within minutes.
        reference = http_rates.bare(load)
        rows = http_rates.vestibule(backend, load, options.http_tree)
        table += http_rates.rows([reference, *rows], reference)
        measured += rows
    served_from = http_rates.tree_label(options.http_tree)
    limits = "Redis" if limits_storage() else "each worker's memory (no Redis answered)"
    print_table(
        f"(e) Over HTTP: gunicorn, {WORKERS} sync workers, VESTIBULE_ENV=production "
        f"(argon2id {registration.argon2_label()}), rate limits in {limits}, app from "
        f"{served_from}; {load.connections} connections from this machine (load: wrk where "
        "the step is one fixed request and wrk is installed, else Python client threads), "
        f"{load.seconds:g} s per endpoint "
        f"after {load.warmup:g} s of warm-up; load average {load_average} at the start; "
        f"{time.perf_counter() - started:.0f} s in all. Each: one request, except a code flow "
        "(GET /authorize + POST /token) and a sign-in (GET + POST /login). CPU: gunicorn's "
        "master and workers (SQLite runs inside them); DB CPU: PostgreSQL's backends. "
        "x bare: the rate, and the CPU per request, relative to bare Flask JSON (measured "
        "just before each database's rows).",
        http_rates.HEADER,
        table,
    )
    for m in measured:
        if m.endpoint.startswith("sign-in"):
            print(f"{m.database}: {1000 / m.cpu_ms:.1f} sign-ins per second per core")


def _instructions(options: argparse.Namespace, backends: list[str]) -> None:
    if not instructions.available():
        print("(g) skipped: valgrind is not installed (make bench installs it as root)")
        return
    requests, warmup = options.instruction_requests, instructions.WARMUP
    started = time.perf_counter()
    reference = instructions.bare(requests, warmup)
    counted = [reference]
    for backend in backends:
        counted += instructions.vestibule(backend, requests, warmup, options.http_tree)
    print_table(
        "(g) Instructions per request in the app's process, counted by callgrind "
        f"({instructions.environment_note()}): the same for the same code whatever the "
        "machine's load, so compare commits here (--http-tree), not machines. The app "
        "called as WSGI in one process, VESTIBULE_ENV=production, rate limits as in (e); "
        f"{requests} repetitions after {warmup} of warm-up; app from "
        f"{http_rates.tree_label(options.http_tree)}; "
        f"{time.perf_counter() - started:.0f} s in all. Not counted: gunicorn, sockets, "
        "PostgreSQL's own process. A code flow is GET /authorize + POST /token.",
        instructions.HEADER,
        instructions.rows(counted, reference),
    )


def _ms(latency) -> tuple[str, str]:
    return f"{latency.percentile(50):.1f}", f"{latency.percentile(95):.1f}"


if __name__ == "__main__":
    main()
