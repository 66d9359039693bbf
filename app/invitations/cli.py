"""``vestibule invitations``: create, list, show, resend, revoke, expire, bulk (spec §3)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli_support import echo_fields, echo_table, refusal_as_click_error, refusal_text, when
from app.errors import DomainError
from app.events import CLI_ACTOR
from app.extensions import db
from app.invitations import bulk_csv, creation, queries, states
from app.invitations import service as invitations_service
from app.invitations.errors import AccountExists
from app.invitations.issued import Issued
from app.invitations.validation import InvitationInput
from app.models import Event, Invitation

#: Invitations ``invitations expire`` marks per transaction.
EXPIRE_BATCH = 1000


@click.group()
def invitations():
    """Invite people and follow their invitations."""


@invitations.command("create")
@click.option("--email", default=None)
@click.option("--mobile-number", default=None, help="E.164, e.g. +4915112345678.")
@click.option("--given-name", default=None)
@click.option("--family-name", default=None)
@click.option("--client-id", default=None, help="The client the person is invited to.")
@click.option("--group", "groups", multiple=True, help="Applied on acceptance; repeatable.")
@click.option("--role", "roles", multiple=True, help="Applied on acceptance; repeatable.")
@click.option("--lang", default=None, help="Message language, e.g. en or de.")
@click.option("--template-key", default=None, help="Message template (default invite_user).")
@click.option("--expires-in", type=int, default=None, help="Invitation lifetime in seconds.")
@click.option("--notify/--no-notify", default=True, help="Send the message or only print.")
@click.option("--redirect-url", default=None, help="Client-less invitations only; allow-listed.")
@click.option(
    "--join",
    "existing_account",
    is_flag=True,
    help="The email belongs to an account: invite that account (it signs in to accept, and "
    "gets the groups, roles and data; its password and profile stay).",
)
@with_appcontext
def invitations_create(**options):
    """Create an invitation and print its links (shown only now)."""
    texts = [v for v in options.values() if isinstance(v, str)]
    refusal_as_click_error(
        bulk_csv.refuse_unstorable, "options", [*texts, *options["groups"], *options["roles"]]
    )
    data = InvitationInput(
        **{**options, "groups": list(options["groups"]), "roles": list(options["roles"])}
    )
    try:
        issued = _create(data)
    except AccountExists as exc:
        db.session.rollback()
        hint = "" if data.existing_account else "; add --join to invite that account"
        raise click.ClickException(refusal_text(exc) + hint) from None
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(refusal_text(exc)) from None
    _echo_issued(issued)


def _create(data: InvitationInput) -> Issued:
    """Create one invitation; a refusal for an account names it (an operator may know)."""
    try:
        return creation.create(data, CLI_ACTOR)
    except AccountExists as exc:
        raise exc.named() from None


@invitations.command("list")
@click.option("--state", type=click.Choice(sorted(states.STATES)), default=None)
@click.option("--client-id", default=None)
@click.option("--email", default=None, help="Exact address (case does not matter).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print only the ids, one per line.")
@with_appcontext
def invitations_list(state, client_id, email, limit, quiet):
    """List invitations, newest first."""
    if quiet:
        for invitation in _listed(state, client_id, email, limit):
            click.echo(invitation.public_id)
        return
    rows = [
        (
            invitation.public_id,
            invitations_service.state_of(invitation),
            invitation.email or invitation.mobile_number,
            invitation.client.client_id if invitation.client else "-",
            when(invitation.created_at),
            when(invitation.expires_at),
        )
        for invitation in _listed(state, client_id, email, limit)
    ]
    echo_table(("id", "state", "address", "client", "created_at", "expires_at"), rows)


def _listed(state: str | None, client_id: str | None, email: str | None, limit: int):
    """The newest ``limit`` invitations matching, through the API's search, page by page."""
    criteria = queries.Search(state=state, client_id=client_id, email=email, limit=limit)
    found: list[Invitation] = []
    while len(found) < limit:
        page = queries.search(criteria)
        found += page.items
        if page.next_after is None:
            break
        criteria.after = page.next_after
    return found[:limit]


@invitations.command("show")
@click.argument("invitation_id")
@with_appcontext
def invitations_show(invitation_id):
    """Print an invitation and its history of events."""
    invitation = refusal_as_click_error(invitations_service.find, invitation_id)
    echo_fields(
        [
            ("id", invitation.public_id),
            ("state", invitations_service.state_of(invitation)),
            ("email", invitation.email),
            ("mobile_number", invitation.mobile_number),
            ("given_name", invitation.given_name),
            ("family_name", invitation.family_name),
            ("client_id", invitation.client.client_id if invitation.client else None),
            ("redirect_url", invitation.redirect_url),
            ("groups", ", ".join(sorted(g.name for g in invitation.groups))),
            ("roles", ", ".join(sorted(r.name for r in invitation.roles))),
            ("template_key", invitation.template_key),
            ("lang", invitation.lang),
            ("notify", "yes" if invitation.notify else "no"),
            ("existing_account", "join" if invitation.existing_account else "no"),
            ("invited_by", invitation.invited_by),
            ("created_at", invitation.created_at),
            ("expires_at", invitation.expires_at),
            ("short_link_expires_at", invitation.short_link_expires_at),
            ("sent_at", invitation.sent_at),
            ("resent_count", invitation.resent_count),
            ("accepted_at", invitation.accepted_at),
            ("accepted_sub", invitation.accepted_sub),
            ("revoked_at", invitation.revoked_at),
            ("rejected_at", invitation.rejected_at),
        ]
    )
    history = db.session.scalars(
        select(Event).where(Event.invitation_id == invitation.id).order_by(Event.id)
    )
    click.echo("\nevents:")
    echo_table(
        ("time", "type", "actor", "change"),
        [
            (when(e.occurred_at), e.type, e.actor, f"{e.from_state or '-'} → {e.to_state or '-'}")
            for e in history
        ],
    )


@invitations.command("resend")
@click.argument("invitation_id")
@with_appcontext
def invitations_resend(invitation_id):
    """Issue a fresh link (the old one stops working) and print it."""
    issued = refusal_as_click_error(invitations_service.resend, invitation_id, CLI_ACTOR)
    _echo_issued(issued)


@invitations.command("revoke")
@click.argument("invitation_id")
@with_appcontext
def invitations_revoke(invitation_id):
    """Revoke a pending invitation; its links stop working."""
    invitation = refusal_as_click_error(invitations_service.revoke, invitation_id, CLI_ACTOR)
    click.echo(f"revoked {invitation.public_id}")


@invitations.command("expire")
@with_appcontext
def invitations_expire():
    """Mark every pending invitation past its expiry as expired."""
    total = 0
    while (count := invitations_service.expire_due(limit=EXPIRE_BATCH)) > 0:
        total += count
        if count < EXPIRE_BATCH:
            break
    click.echo(f"expired {total} invitation(s)")


@invitations.command("bulk")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def invitations_bulk(csv_file):
    """Create one invitation per CSV row; exits non-zero when any row failed.

    The header names the columns: email, mobile_number, given_name, family_name,
    client_id, groups and roles (separated by ';'), lang, template_key, expires_in
    (seconds), notify (true/false), existing_account (join: the email's account is
    invited). Each good row is committed on its own.
    """
    rows = _read_bulk_csv(csv_file)
    results = []
    progress = click.progressbar(rows, label="Creating invitations", file=sys.stderr)
    with progress as bar:
        for line, row in bar:
            results.append((line, _bulk_create_row(row)))
    failed = 0
    for line, outcome in results:
        if isinstance(outcome, DomainError):
            failed += 1
            click.echo(f"line {line}: error: {refusal_text(outcome)}")
        else:
            click.echo(f"line {line}: ok {outcome}")
    click.echo(f"created {len(results) - failed}, failed {failed}")
    if failed:
        raise click.exceptions.Exit(1)


def _read_bulk_csv(path: str) -> list[bulk_csv.Row]:
    """(line number, row) pairs; refuses a file whose header names unknown columns."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return bulk_csv.read_rows(handle.read())
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"cannot read {path} as UTF-8 CSV: {exc}") from None
    except bulk_csv.InvalidCsv as exc:
        raise click.ClickException(exc.description) from None


def _bulk_create_row(row: dict[str, str]) -> str | DomainError:
    """The new invitation's id, or the refusal (nothing of this row is written)."""
    try:
        issued = _create(bulk_csv.row_input(row))
    except DomainError as exc:
        db.session.rollback()
        return exc
    return issued.invitation.public_id


def _echo_issued(issued: Issued) -> None:
    """The fields and links of a just created or resent invitation."""
    echo_fields(
        [
            ("id", issued.invitation.public_id),
            ("state", invitations_service.state_of(issued.invitation)),
            ("link", issued.link),
            ("short_link", issued.short_link),
            ("expires_at", issued.invitation.expires_at),
        ]
    )
