"""``vestibule webhooks``: register and manage webhook endpoints."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli_support import echo_table
from app.errors import DomainError
from app.events import CLI_ACTOR, WEBHOOK_EVENT_TYPES
from app.webhooks import service


@click.group()
def webhooks():
    """Register webhook endpoints, list deliveries, replay one."""


def _fail(exc: DomainError) -> click.ClickException:
    return click.ClickException(exc.description)


@webhooks.command("create")
@click.option("--url", required=True, help="http(s) URL the events are POSTed to.")
@click.option(
    "--event",
    "event_types",
    multiple=True,
    required=True,
    type=click.Choice(WEBHOOK_EVENT_TYPES),
    help="An event type to deliver; repeat for more.",
)
@click.option("--description", default=None)
@with_appcontext
def webhooks_create(url: str, event_types: tuple[str, ...], description: str | None):
    """Register an endpoint and print its signing secret once."""
    try:
        issued = service.create(url, event_types, CLI_ACTOR, description)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"id:     {issued.endpoint.public_id}")
    click.echo(f"secret: {issued.secret}")
    click.echo("The secret is shown only now; keep it where the receiver can read it.")


@webhooks.command("list")
@with_appcontext
def webhooks_list():
    """Every endpoint: id, enabled or disabled, URL, event types, description."""
    rows, after = [], None
    while True:
        page = service.page_of_endpoints(after, 200)
        rows += [
            (
                endpoint.public_id,
                "enabled" if endpoint.enabled else "disabled",
                endpoint.url,
                ",".join(endpoint.event_types),
                endpoint.description or "",
            )
            for endpoint in page.items
        ]
        if page.next_after is None:
            break
        after = page.next_after
    echo_table(("id", "state", "url", "events", "description"), rows)


def _set_enabled(endpoint_id: str, enabled: bool) -> None:
    try:
        service.update(endpoint_id, {"enabled": enabled}, CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"{endpoint_id} {'enabled' if enabled else 'disabled'}")


@webhooks.command("disable")
@click.argument("endpoint_id")
@with_appcontext
def webhooks_disable(endpoint_id: str):
    """Stop queueing and delivering events to an endpoint."""
    _set_enabled(endpoint_id, False)


@webhooks.command("enable")
@click.argument("endpoint_id")
@with_appcontext
def webhooks_enable(endpoint_id: str):
    """Queue and deliver events to an endpoint again (from now on)."""
    _set_enabled(endpoint_id, True)


@webhooks.command("delete")
@click.argument("endpoint_id")
@with_appcontext
def webhooks_delete(endpoint_id: str):
    """Delete an endpoint with its deliveries."""
    try:
        service.remove(endpoint_id, CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"{endpoint_id} deleted")


@webhooks.command("deliveries")
@click.argument("endpoint_id")
@click.option("--limit", type=click.IntRange(1, 500), default=50)
@with_appcontext
def webhooks_deliveries(endpoint_id: str, limit: int):
    """Newest first: delivery id, event type, state, attempts, last error; then each
    attempt: number, time, status, latency, error."""
    try:
        page = service.deliveries(endpoint_id, limit=limit)
    except DomainError as exc:
        raise _fail(exc) from None
    for item in page.items:
        tries = f"{item.attempts}/{item.max_attempts}"
        line = [item.public_id, item.topic, item.state, tries, item.last_error or ""]
        click.echo("\t".join(line))
        for attempt in item.attempt_log:
            status = str(attempt.status_code) if attempt.status_code is not None else "-"
            when = attempt.started_at.isoformat(timespec="seconds")
            click.echo(
                f"  #{attempt.number}\t{when}\t{status}\t{attempt.latency_ms} ms\t"
                f"{attempt.error or ''}"
            )


@webhooks.command("replay")
@click.argument("delivery_id")
@with_appcontext
def webhooks_replay(delivery_id: str):
    """Deliver a dead (or sent) delivery again, with the same webhook-id."""
    try:
        item = service.replay(delivery_id)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"{item.public_id} pending")
