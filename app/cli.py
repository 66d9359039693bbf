"""The ``vestibule`` command group (a Flask CLI group; ``db`` comes from Flask-Migrate)."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from app.accounts import password_links
from app.accounts.service import AccountError, create_account, find_by_email
from app.clients.service import ClientError, create_client, find_client, list_clients, rotate_secret
from app.errors import DomainError
from app.events import CLI_ACTOR
from app.extensions import db
from app.invitations import bulk_csv, queries, states
from app.invitations import service as invitations_service
from app.invitations.bulk_csv import refuse_unstorable as _refuse_unstorable
from app.models import Event, Invitation
from app.oauth import keys
from config import SIGNUP_MODES


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    app.cli.add_command(clients)
    app.cli.add_command(users)
    app.cli.add_command(invitations)
    app.cli.add_command(seed)
    from app.oauth.cli import keys_group
    from app.outbox.cli import outbox, purge, worker
    from app.webhooks.cli import webhooks

    for command in (keys_group, worker, outbox, purge, webhooks):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the ``vestibule`` console script."""
    from app import create_app

    FlaskGroup(create_app=lambda: create_app(), help="Vestibule administration.")()


@click.group()
def clients():
    """Register and manage OAuth clients."""


@clients.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--client-id", default=None, help="Default: random.")
@click.option("--public", is_flag=True, help="No secret; authenticates with 'none'.")
@click.option(
    "--auth-method",
    default="client_secret_basic",
    type=click.Choice(["client_secret_basic", "client_secret_post"]),
)
@click.option(
    "--grant-type",
    "grant_types",
    multiple=True,
    type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]),
)
@click.option("--scope", default="openid profile email")
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--initiate-login-uri", default=None)
@click.option("--first-party", is_flag=True, help="Skip the consent screen.")
@click.option(
    "--relax-pkce", is_flag=True, help="Confidential OIDC clients sending a nonce may omit PKCE."
)
@click.option(
    "--signup-mode",
    type=click.Choice(SIGNUP_MODES),
    default=None,
    help="Who may register through this client. Default: the global SIGNUP_MODE.",
)
@with_appcontext
def clients_create(
    name,
    redirect_uris,
    client_id,
    public,
    auth_method,
    grant_types,
    scope,
    post_logout,
    initiate_login_uri,
    first_party,
    relax_pkce,
    signup_mode,
):
    """Register a client and print its secret once."""
    try:
        client, secret = create_client(
            name,
            list(redirect_uris),
            client_id=client_id,
            public=public,
            auth_method=auth_method,
            grant_types=list(grant_types) or None,
            scope=scope,
            post_logout_redirect_uris=list(post_logout),
            initiate_login_uri=initiate_login_uri,
            first_party=first_party,
            require_pkce=not relax_pkce,
            signup_mode=signup_mode,
            allow_http=current_app.config["AUTHLIB_INSECURE_TRANSPORT"],
        )
    except ClientError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"client_id:     {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}")
        click.echo("The secret is shown only now; Vestibule keeps only its hash.")


@clients.command("list")
@with_appcontext
def clients_list():
    """List registered clients."""
    for client in list_clients():
        kind = "public" if client.is_public else client.token_endpoint_auth_method
        party = "first-party" if client.first_party else "third-party"
        signup = f"signup:{client.signup_mode or 'global'}"
        uris = " ".join(client.redirect_uris)
        click.echo(f"{client.client_id}\t{client.name}\t{kind}\t{party}\t{signup}\t{uris}")


@clients.command("rotate-secret")
@click.argument("client_id")
@with_appcontext
def clients_rotate_secret(client_id):
    """Give a confidential client a new secret (printed once); the old one stops working."""
    try:
        secret = rotate_secret(client_id)
    except ClientError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"client_secret: {secret}")


@click.group()
def users():
    """Manage accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--given-name", default=None)
@click.option("--family-name", default=None)
@click.option("--role", "roles", multiple=True, help="e.g. admin, secondary_admin, user_invite")
@click.password_option()
@with_appcontext
def users_create(email, given_name, family_name, roles, password):
    """Create an account with a password (asked for twice, never echoed)."""
    try:
        account = create_account(
            email,
            password,
            given_name=given_name,
            family_name=family_name,
            email_verified=True,
            roles=tuple(roles),
        )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {account.email} (sub {account.sub})")


@users.command("password-link")
@click.argument("email_or_sub")
@click.option(
    "--expires-in", type=int, default=None, help="Seconds the link works (default 7 days)."
)
@click.option("--notify/--no-notify", default=True, help="Email the link, or only print it.")
@click.option("--lang", default=None, help="Language of the email, e.g. en or de.")
@with_appcontext
def users_password_link(email_or_sub, expires_in, notify, lang):
    """Issue a set-password (recovery) link and print it (shown only now)."""
    _refusal_as_click_error(_refuse_unstorable, "arguments", [email_or_sub, lang or ""])
    account = find_by_email(email_or_sub) if "@" in email_or_sub else None
    sub = account.sub if account is not None else email_or_sub
    row, link = _refusal_as_click_error(
        lambda: password_links.issue_set_link(
            sub, CLI_ACTOR, expires_in=expires_in, notify=notify, lang=lang
        )
    )
    _echo_fields(
        [
            ("link", link),
            ("expires_at", row.expires_at),
            ("emailed_to", row.account.email if notify else None),
        ]
    )


#: The actor recorded on invitations and events the CLI creates or changes.
#: Invitations ``invitations expire`` marks per transaction.
EXPIRE_BATCH = 1000


@click.group()
def invitations():
    """Invite people and follow their invitations (spec §3)."""


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
@with_appcontext
def invitations_create(**options):
    """Create an invitation and print its links (shown only now)."""
    texts = [v for v in options.values() if isinstance(v, str)]
    _refusal_as_click_error(
        _refuse_unstorable, "options", [*texts, *options["groups"], *options["roles"]]
    )
    data = invitations_service.InvitationInput(
        **{**options, "groups": list(options["groups"]), "roles": list(options["roles"])}
    )
    issued = _refusal_as_click_error(invitations_service.create, data, CLI_ACTOR)
    _echo_issued(issued)


@invitations.command("list")
@click.option("--state", type=click.Choice(sorted(states.STATES)), default=None)
@click.option("--client-id", default=None)
@click.option("--email", default=None, help="Exact address (case does not matter).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@with_appcontext
def invitations_list(state, client_id, email, limit):
    """List invitations, newest first."""
    rows = [
        (
            invitation.public_id,
            invitations_service.state_of(invitation),
            invitation.email or invitation.mobile_number,
            invitation.client.client_id if invitation.client else "-",
            _when(invitation.created_at),
            _when(invitation.expires_at),
        )
        for invitation in _listed(state, client_id, email, limit)
    ]
    _echo_table(("id", "state", "address", "client", "created_at", "expires_at"), rows)


def _listed(state: str | None, client_id: str | None, email: str | None, limit: int):
    """The newest ``limit`` invitations matching, through the API's search, page by page."""
    criteria = queries.Search(state=state, client_id=client_id, email=email, limit=limit)
    found: list[Invitation] = []
    while len(found) < limit:
        page = queries.search(criteria)
        found += page.items
        if page.next_cursor is None:
            break
        criteria.cursor = page.next_cursor
    return found[:limit]


@invitations.command("show")
@click.argument("invitation_id")
@with_appcontext
def invitations_show(invitation_id):
    """Print an invitation and its history of events."""
    invitation = _refusal_as_click_error(invitations_service.find, invitation_id)
    _echo_fields(
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
    _echo_table(
        ("time", "type", "actor", "change"),
        [
            (_when(e.occurred_at), e.type, e.actor, f"{e.from_state or '-'} → {e.to_state or '-'}")
            for e in history
        ],
    )


@invitations.command("resend")
@click.argument("invitation_id")
@with_appcontext
def invitations_resend(invitation_id):
    """Issue a fresh link (the old one stops working) and print it."""
    issued = _refusal_as_click_error(invitations_service.resend, invitation_id, CLI_ACTOR)
    _echo_issued(issued)


@invitations.command("revoke")
@click.argument("invitation_id")
@with_appcontext
def invitations_revoke(invitation_id):
    """Revoke a pending invitation; its links stop working."""
    invitation = _refusal_as_click_error(invitations_service.revoke, invitation_id, CLI_ACTOR)
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
    (seconds), notify (true/false). Each good row is committed on its own.
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
            click.echo(f"line {line}: error: {outcome.description}")
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
        issued = invitations_service.create(bulk_csv.row_input(row), CLI_ACTOR)
    except DomainError as exc:
        db.session.rollback()
        return exc
    return issued.invitation.public_id


def _echo_issued(issued: invitations_service.Issued) -> None:
    """The fields and links of a just created or resent invitation."""
    _echo_fields(
        [
            ("id", issued.invitation.public_id),
            ("state", invitations_service.state_of(issued.invitation)),
            ("link", issued.link),
            ("short_link", issued.short_link),
            ("expires_at", issued.invitation.expires_at),
        ]
    )


def _refusal_as_click_error(action, *args):
    """Run a domain ``action``; a refusal becomes a click error and nothing is written."""
    try:
        return action(*args)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.description) from None


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def _echo_fields(pairs: list[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in pairs) + 2
    for name, value in pairs:
        shown = _when(value) if isinstance(value, datetime) else value
        click.echo(f"{name + ':':<{width}}{'-' if shown in (None, '') else shown}")


def _echo_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        click.echo(
            "  ".join(f"{cell!s:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
        )


@click.command()
@with_appcontext
def seed():
    """Create the demo admin and clients for local development (idempotent)."""
    cfg = current_app.config
    if cfg.get("DEMO_ADMIN_PASSWORD") is None:
        raise click.ClickException("seed is for development only")
    keys.ensure_signing_key()
    issuer = cfg["ISSUER"]
    if find_by_email(cfg["DEMO_ADMIN_EMAIL"]) is None:
        create_account(
            cfg["DEMO_ADMIN_EMAIL"],
            cfg["DEMO_ADMIN_PASSWORD"],
            given_name="Ada",
            family_name="Admin",
            email_verified=True,
            roles=("admin",),
        )
    if find_client("demo-confidential") is None:
        create_client(
            "Vestibule Playground",
            [f"{issuer}/playground/callback"],
            client_id="demo-confidential",
            secret=cfg["DEMO_CLIENT_SECRET"],
            first_party=True,
            scope="openid profile email phone offline_access",
            post_logout_redirect_uris=[f"{issuer}/playground/"],
            initiate_login_uri=f"{issuer}/playground/login",
            allow_http=True,
        )
    if find_client("demo-public") is None:
        create_client(
            "Demo public app",
            ["http://127.0.0.1:8765/callback"],
            client_id="demo-public",
            public=True,
            allow_http=True,
        )
    click.echo(
        SEED_MESSAGE.format(
            issuer=issuer,
            email=cfg["DEMO_ADMIN_EMAIL"],
            password=cfg["DEMO_ADMIN_PASSWORD"],
            secret=cfg["DEMO_CLIENT_SECRET"],
        )
    )


SEED_MESSAGE = """
Vestibule is seeded for local development.

  Admin account      {email} / {password}
  Demo client        demo-confidential / {secret} (first-party, confidential)
  Demo public client demo-public (public, PKCE, shows the consent screen)

Try a sign-in with PKCE: open {issuer}/playground/ and press "Sign in".
Discovery: {issuer}/.well-known/openid-configuration
"""
