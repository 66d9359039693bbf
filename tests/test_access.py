"""The role rules both the admin API and the dashboard apply (spec §3.6), called with
the caller passed in: no request, no bearer token, no browser session."""

from __future__ import annotations

import pytest

from app.access import (
    Caller,
    Forbidden,
    MissingScope,
    person_may,
    refuse_account_beyond_caller,
    refuse_roles_beyond_caller,
    refuse_vouching_beyond_caller,
)

MACHINE = Caller("client:integration", frozenset({"users:write"}))


@pytest.fixture
def person(app, factory):
    """A caller for a person holding ``role``: person(role)."""

    def make(role: str) -> Caller:
        return Caller(f"account:{factory.account(f'{role}@example.com', roles=(role,)).sub}")

    return make


def test_person_may_follows_the_roles():
    """user_invite may invite but not revoke; secondary_admin may not touch clients."""
    assert person_may({"user_invite"}, "invitations.create")
    assert not person_may({"user_invite"}, "invitations.revoke")
    assert not person_may({"secondary_admin"}, "clients.write")
    assert person_may({"editor", "admin"}, "clients.write")
    assert not person_may({"editor"}, "invitations.read")


def test_a_person_grants_only_within_their_roles(app, person):
    """A secondary_admin may grant user_invite and custom roles, never admin."""
    secondary = person("secondary_admin")
    with app.app_context():
        refuse_roles_beyond_caller(secondary, ["user_invite", "editor"])
        with pytest.raises(Forbidden, match="admin"):
            refuse_roles_beyond_caller(secondary, ["admin"])


def test_nobody_writes_to_an_account_beyond_their_roles(app, factory, person):
    """A secondary_admin cannot act on an admin's account at all."""
    top = factory.account("top@example.com", roles=("admin",)).sub
    with app.app_context():
        with pytest.raises(Forbidden):
            refuse_account_beyond_caller(person("secondary_admin"), top)
        refuse_account_beyond_caller(person("admin"), top)


def test_a_machine_needs_roles_grant_for_built_in_roles(app):
    """Without roles:grant a client may grant custom roles only; the refusal names the
    scope."""
    with app.app_context():
        refuse_roles_beyond_caller(MACHINE, ["editor"])
        with pytest.raises(MissingScope) as refusal:
            refuse_roles_beyond_caller(MACHINE, ["user_invite"])
        assert refusal.value.extra == {"scope": "roles:grant"}
        granting = Caller(MACHINE.actor, MACHINE.scopes | {"roles:grant"})
        refuse_roles_beyond_caller(granting, ["admin"])


def test_the_cli_is_not_limited(app):
    """An operator on the server may grant any role and vouch for any address."""
    with app.app_context():
        refuse_roles_beyond_caller(Caller("cli"), ["admin"])
        refuse_vouching_beyond_caller(Caller("cli"), True)


def test_vouching_needs_users_verify_or_the_admin_role(app, person):
    """A client needs users:verify, a person the role admin; not vouching needs nothing."""
    with app.app_context():
        refuse_vouching_beyond_caller(MACHINE, False)
        with pytest.raises(MissingScope):
            refuse_vouching_beyond_caller(MACHINE, True)
        refuse_vouching_beyond_caller(Caller(MACHINE.actor, frozenset({"users:verify"})), True)
        with pytest.raises(Forbidden):
            refuse_vouching_beyond_caller(person("secondary_admin"), True)
        refuse_vouching_beyond_caller(person("admin"), True)
