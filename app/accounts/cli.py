"""``vestibule users``: create an account, issue a set-password link; ``vestibule groups``
and ``vestibule roles``: create, list, delete them and manage who belongs to them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.accounts import groups as named
from app.accounts import password_links
from app.accounts.errors import AccountError, AccountNotFound
from app.accounts.service import create_account, find_by_email
from app.cli_support import echo_fields, echo_table, refusal_as_click_error, when
from app.events import CLI_ACTOR
from app.invitations.bulk_csv import refuse_unstorable
from app.models import Group, Role


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
    sub = _sub_of(email_or_sub)
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


def _sub_of(email_or_sub: str) -> str:
    """The ``sub`` of the account with this email address, or the argument itself."""
    if "@" not in email_or_sub:
        return email_or_sub
    account = find_by_email(email_or_sub)
    if account is None:
        raise click.ClickException(AccountNotFound(f"no account {email_or_sub!r}").description)
    return account.sub


def _named_commands(model: type[Group] | type[Role], about: str) -> click.Group:
    """The ``groups`` or ``roles`` command group: groups and roles are managed alike."""
    noun = "group" if model is Group else "role"

    @click.group(name=f"{noun}s", help=about)
    def commands():
        pass

    @commands.command("create", help=f"Create a {noun}.")
    @click.argument("name")
    @with_appcontext
    def create(name):
        refusal_as_click_error(refuse_unstorable, "arguments", [name])
        row = refusal_as_click_error(named.create, model, name, CLI_ACTOR)
        click.echo(f"created {noun} {row.name}")

    @commands.command("list", help=f"Every {noun}, oldest first, with its number of members.")
    @with_appcontext
    def list_():
        rows = [
            (row.name, str(named.member_count(model, row)), when(row.created_at))
            for row in _every(lambda after: named.list_all(model, after, 200))
        ]
        echo_table(("name", "members", "created_at"), rows)

    @commands.command(
        "delete",
        help=f"Delete a {noun} that nobody belongs to and no pending invitation grants.",
    )
    @click.argument("name")
    @with_appcontext
    def delete(name):
        refusal_as_click_error(named.remove, model, name, CLI_ACTOR)
        click.echo(f"deleted {noun} {name}")

    _membership_command(
        commands,
        model,
        "add-member",
        named.add_member,
        f"Add an account (email or sub) to a {noun}.",
        f"{{who}} belongs to the {noun} {{name}}",
    )
    _membership_command(
        commands,
        model,
        "remove-member",
        named.remove_member,
        f"Take an account (email or sub) out of a {noun}.",
        f"{{who}} no longer belongs to the {noun} {{name}}",
    )

    @commands.command("members", help=f"The accounts in a {noun}: sub, email, name.")
    @click.argument("name")
    @with_appcontext
    def members(name):
        members = _every(
            lambda after: refusal_as_click_error(named.members, model, name, after, 200)
        )
        rows = [(a.sub, a.email or "-", _full_name(a)) for a in members]
        echo_table(("sub", "email", "name"), rows)

    return commands


def _membership_command(commands, model, command: str, change, help_text: str, done: str):
    """``add-member`` or ``remove-member``: ``change`` (the service's) one account's
    membership, then say ``done`` (with ``{who}`` and ``{name}``)."""

    @commands.command(command, help=help_text)
    @click.argument("name")
    @click.argument("email_or_sub")
    @with_appcontext
    def membership(name, email_or_sub):
        refusal_as_click_error(refuse_unstorable, "arguments", [name, email_or_sub])
        refusal_as_click_error(change, model, name, _sub_of(email_or_sub), CLI_ACTOR)
        click.echo(done.format(who=email_or_sub, name=name))


def _every(fetch) -> list:
    """Every item of a keyset-paged list: ``fetch(after)`` gives one page."""
    items, after = [], None
    while True:
        page = fetch(after)
        items += page.items
        if page.next_after is None:
            return items
        after = page.next_after


def _full_name(account) -> str:
    return " ".join(part for part in (account.given_name, account.family_name) if part) or "-"


groups = _named_commands(
    Group,
    "Create and delete groups; add and remove members.\n\nAn invitation may name "
    "groups (--group): the person joins them on acceptance. Clients see them in the "
    "groups claim (scope groups).",
)
roles = _named_commands(
    Role,
    "Create and delete roles; add and remove who holds them.\n\nThe built-in roles "
    "admin, secondary_admin and user_invite carry admin powers (the dashboard, and a "
    "person's admin API token); clients see every role in the roles claim (scope roles).",
)
