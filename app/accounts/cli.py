"""``vestibule users``: create an account, issue a set-password link."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.accounts import password_links
from app.accounts.errors import AccountError
from app.accounts.service import create_account, find_by_email
from app.cli_support import echo_fields, refusal_as_click_error
from app.events import CLI_ACTOR
from app.invitations.bulk_csv import refuse_unstorable


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
    refusal_as_click_error(refuse_unstorable, "arguments", [email_or_sub, lang or ""])
    account = find_by_email(email_or_sub) if "@" in email_or_sub else None
    sub = account.sub if account is not None else email_or_sub
    row, link = refusal_as_click_error(
        lambda: password_links.issue_set_link(
            sub, CLI_ACTOR, expires_in=expires_in, notify=notify, lang=lang
        )
    )
    echo_fields(
        [
            ("link", link),
            ("expires_at", row.expires_at),
            ("emailed_to", row.account.email if notify else None),
        ]
    )
