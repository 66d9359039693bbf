"""``vestibule worker``, ``vestibule outbox`` and ``vestibule purge``."""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import with_appcontext

from app.errors import DomainError
from app.outbox import queue
from app.outbox.purge import purge_old
from app.outbox.worker import Worker


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--batch", type=click.IntRange(1, 1000), default=None, help="Items per claim.")
@with_appcontext
def worker(once: bool, batch: int | None):
    """Deliver the outbox (emails, SMS, webhooks) until stopped (SIGTERM/Ctrl-C)."""
    runner = Worker(batch=batch)
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
    """Look at pending, sent and dead deliveries; retry one."""


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
@click.argument("item_id")
@with_appcontext
def outbox_retry(item_id: str):
    """Deliver a dead item again (or a sent one once more)."""
    try:
        item = queue.requeue(item_id)
    except DomainError as exc:
        raise click.ClickException(exc.description) from None
    click.echo(f"{item.public_id} pending")


@click.command("purge")
@with_appcontext
def purge():
    """Delete events past EVENT_RETENTION_DAYS, sent outbox items past
    OUTBOX_RETENTION_DAYS, and expired idempotency records, sessions and pauses."""
    for name, count in purge_old().items():
        click.echo(f"{name}: {count} deleted")
