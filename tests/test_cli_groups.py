"""The `vestibule groups` and `vestibule roles` commands, and `vestibule --help`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app import create_app
from app.cli import COMMANDS, VestibuleGroup
from app.extensions import db
from app.models import Account, Event, Group, Role
from tests.helpers import INITIATE_LOGIN_URI, invite, row_counts


@pytest.fixture
def cli(app):
    """``cli("groups", "list")``: run a command, return the click result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def names(app, model) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(model.name).order_by(model.id)))


def memberships(app, email: str) -> tuple[list[str], list[str]]:
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == email))
        return sorted(g.name for g in account.groups), sorted(r.name for r in account.roles)


@pytest.mark.parametrize("kind, model", [("groups", Group), ("roles", Role)])
def test_create_list_and_delete(app, cli, kind, model):
    """`create` stores the name and records an event, `list` shows it under a header with
    its member count, `delete` removes it."""
    created = cli(kind, "create", "partners")
    assert created.exit_code == 0, created.output
    assert names(app, model) == ["partners"]
    listing = cli(kind, "list").output.splitlines()
    assert listing[0].split() == ["name", "members", "created_at"]
    assert listing[1].split()[:2] == ["partners", "0"]
    deleted = cli(kind, "delete", "partners")
    assert deleted.exit_code == 0, deleted.output
    assert names(app, model) == []
    with app.app_context():
        types = list(db.session.scalars(select(Event.type).order_by(Event.id)))
    noun = kind.removesuffix("s")
    assert types == [f"{noun}.created", f"{noun}.deleted"]


@pytest.mark.parametrize("kind", ["groups", "roles"])
def test_create_refuses_taken_and_invalid_names(app, cli, kind):
    """A taken name and a name outside the alphabet are refused with exit 1, nothing added."""
    cli(kind, "create", "staff")
    taken = cli(kind, "create", "staff")
    assert taken.exit_code == 1 and "already exists" in taken.output
    invalid = cli(kind, "create", "two words")
    assert invalid.exit_code == 1 and "names are 1 to 64" in invalid.output
    assert cli(kind, "list").output.count("staff") == 1


def test_add_and_remove_member_by_email_or_sub(app, cli, factory):
    """`add-member` takes an email or a sub; `members` lists the account; `remove-member`
    takes it out again."""
    person = factory.account("grace@example.com")
    cli("groups", "create", "staff")
    cli("roles", "create", "user_invite")
    added = cli("groups", "add-member", "staff", "grace@example.com")
    assert added.exit_code == 0 and added.output == "grace@example.com belongs to the group staff\n"
    assert cli("roles", "add-member", "user_invite", person.sub).exit_code == 0
    assert memberships(app, "grace@example.com") == (["staff"], ["user_invite"])
    members = cli("groups", "members", "staff").output.splitlines()
    assert members[0].split() == ["sub", "email", "name"]
    assert members[1].split()[:2] == [person.sub, "grace@example.com"]
    assert cli("groups", "list").output.splitlines()[1].split()[:2] == ["staff", "1"]
    removed = cli("groups", "remove-member", "staff", person.sub)
    assert removed.exit_code == 0
    assert removed.output == f"{person.sub} no longer belongs to the group staff\n"
    assert memberships(app, "grace@example.com") == ([], ["user_invite"])


def test_add_member_refuses_unknown_account_or_group(app, cli, factory):
    """An unknown email, sub or group is refused with exit 1 and changes nothing."""
    factory.account("grace@example.com")
    cli("groups", "create", "staff")
    unknown_email = cli("groups", "add-member", "staff", "nobody@example.com")
    assert unknown_email.exit_code == 1 and "nobody@example.com" in unknown_email.output
    unknown_sub = cli("groups", "add-member", "staff", "no-such-sub")
    assert unknown_sub.exit_code == 1
    unknown_group = cli("groups", "add-member", "beta", "grace@example.com")
    assert unknown_group.exit_code == 1 and "beta" in unknown_group.output
    assert memberships(app, "grace@example.com") == ([], [])


def test_delete_refuses_a_group_with_members(app, cli, factory):
    """A group someone belongs to is not deleted; the message says to remove them first."""
    factory.account("grace@example.com")
    cli("groups", "create", "staff")
    cli("groups", "add-member", "staff", "grace@example.com")
    refused = cli("groups", "delete", "staff")
    assert refused.exit_code == 1 and "remove them first" in refused.output
    assert names(app, Group) == ["staff"]
    assert memberships(app, "grace@example.com") == (["staff"], [])


def test_delete_refuses_a_role_a_pending_invitation_grants(app, cli, factory):
    """A role a pending invitation grants is not deleted (the invitee would silently
    lose it); once the invitation is revoked, it is, and the invitation forgets it."""
    factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)
    cli("roles", "create", "editor")
    sent = invite(app, email="ada@example.com", client_id="shop", roles=["editor"])
    refused = cli("roles", "delete", "editor")
    assert refused.exit_code == 1 and "revoke them first" in refused.output
    assert names(app, Role) == ["editor"]
    assert cli("invitations", "revoke", sent.id).exit_code == 0
    deleted = cli("roles", "delete", "editor")
    assert deleted.exit_code == 0, deleted.output
    assert names(app, Role) == [] and row_counts(app)["invitation_roles"] == 0


def test_help_lists_vestibule_commands_apart_from_flask_plumbing():
    """`vestibule --help` lists Vestibule's commands under "Commands" and Flask's and its
    extensions' (db, run, shell, routes ...) under a heading of their own, which still run."""
    group = VestibuleGroup(create_app=lambda: create_app("testing"))
    output = CliRunner().invoke(group, ["--help"]).output
    ours, heading, plumbing = output.partition("Flask and its extensions")
    assert heading, output
    for command in ("invitations", "users", "groups", "roles", "clients", "webhooks", "seed"):
        assert f"\n  {command} " in ours
    for command in ("db", "run", "shell", "routes", "limiter"):
        assert f"\n  {command} " in plumbing and f"\n  {command} " not in ours
    assert "--app" not in output
    assert CliRunner().invoke(group, ["db", "--help"]).exit_code == 0


def test_no_help_text_refers_to_the_specification_by_section():
    """Help texts describe behaviour: none of them points at a "spec §"."""
    texts = []
    pending = list(COMMANDS)
    while pending:
        command = pending.pop()
        texts += [command.help or "", command.short_help or ""]
        texts += [getattr(param, "help", None) or "" for param in command.params]
        pending += getattr(command, "commands", {}).values()
    assert len(texts) > 100
    assert [text for text in texts if "§" in text] == []
