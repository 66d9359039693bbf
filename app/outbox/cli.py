"""``vestibule worker``, ``vestibule outbox`` and ``vestibule purge``."""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import with_appcontext

from app.errors import DomainError
from app.events import CLI_ACTOR
from app.outbox import queue, recovery
from app.outbox.purge import purge_old
from app.outbox.worker import Worker
from config import ConfigurationError


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=None,
    help="Items each of the email and SMS lanes claims at once.",
)
@with_appcontext
def worker(once: bool, batch: int | None):
    """Deliver the outbox (emails, SMS, webhooks) until stopped (SIGTERM/Ctrl-C)."""
    try:
        runner = Worker(batch=batch)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    if once:
        total = 0
        while tried := runner.run_once():
            total += tried
        click.echo(f"tried {total}")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"worker {runner.name} delivering; stop with Ctrl-C")
    total = runner.run(stop)
    click.echo(f"worker {runner.name} stopped after {total} items")


@click.group()
def outbox():
    """Look at pending, sent and dead deliveries; retry one, or many after an outage."""


@outbox.command("list")
@click.option("--state", type=click.Choice(queue.STATES), default=None)
@click.option("--kind", type=click.Choice(queue.KINDS), default=None)
@click.option("--limit", type=click.IntRange(1, 500), default=50)
@with_appcontext
def outbox_list(state: str | None, kind: str | None, limit: int):
    """Newest first: id, kind, state, attempts, topic, recipient, last error."""
    counts = queue.counts()
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))
    for item in queue.listing(state=state, kind=kind, limit=limit).items:
        click.echo(
            "\t".join(
                [
                    item.public_id,
                    item.kind,
                    item.state,
                    f"{item.attempts}/{item.max_attempts}",
                    item.topic,
                    item.recipient,
                    item.last_error or "",
                ]
            )
        )


@outbox.command("retry")
@click.argument("item_id", required=False)
@click.option(
    "--state", type=click.Choice(recovery.RETRYABLE), help="Retry every item in this state."
)
@click.option(
    "--since", help="With --state: items that went dead since an ISO time or 30m, 12h, 7d, 2w ago."
)
@click.option("--kind", type=click.Choice(queue.KINDS), help="With --state: only this kind.")
@click.option("--endpoint", help="With --state: only deliveries to this webhook endpoint id.")
@with_appcontext
def outbox_retry(item_id: str | None, state: str | None, since: str | None, **only):
    """Deliver a dead item again (or a sent one once more); or, with --state dead and
    --since, every item that went dead since then (after an outage)."""
    bulk = state is not None or since is not None or any(only.values())
    if bool(item_id) == bulk:
        raise click.UsageError("name one item id, or retry in bulk with --state dead --since")
    try:
        if bulk:
            _retry_in_bulk(state, since, **only)
        else:
            click.echo(f"{queue.requeue(item_id).public_id} pending")
    except DomainError as exc:
        raise click.ClickException(exc.description) from None


def _retry_in_bulk(state: str | None, since: str | None, kind: str | None, endpoint: str | None):
    if state is None or since is None:
        raise click.UsageError("a bulk retry needs both --state dead and --since")
    chosen = recovery.retry_filter(state, since, kind=kind, endpoint=endpoint)
    count = recovery.retry_dead(chosen, CLI_ACTOR)
    click.echo(f"{count} items that went dead since {chosen.since.isoformat()} pending again")


@click.command("purge")
@with_appcontext
def purge():
    """Delete events past EVENT_RETENTION_DAYS, sent outbox items past
    OUTBOX_RETENTION_DAYS, and expired idempotency records, sessions and pauses."""
    for name, count in purge_old().items():
        click.echo(f"{name}: {count} deleted")
