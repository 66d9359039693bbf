"""Who may do what (spec §3.6): the actions a role allows, and the rule that nobody
grants, takes away or acts on more power than they hold.

The admin API and the dashboard both apply these rules; each works out its caller
from its own request (a bearer token, a browser session) and passes it in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.accounts import service as accounts
from app.accounts.groups import BUILT_IN_ROLES
from app.errors import DomainError
from app.invitations import service as invitations
from app.models import Account

#: Everything the admin API and the dashboard let someone do, as ``resource.verb``.
ACTIONS: tuple[str, ...] = (
    "invitations.read",
    "invitations.create",
    "invitations.resend",
    "invitations.revoke",
    "users.read",
    "users.write",
    "clients.read",
    "clients.write",
    "webhooks.read",
    "webhooks.write",
    "outbox.read",
    "outbox.write",
)

#: role -> actions a person holding it may perform.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(ACTIONS),
    # Integrations (clients, webhooks) are for admins only.
    "secondary_admin": frozenset(a for a in ACTIONS if not a.startswith(("clients.", "webhooks."))),
    "user_invite": frozenset({"invitations.read", "invitations.create", "invitations.resend"}),
}

#: Scopes no route requires by itself: what a machine needs on top of a route's scope
#: to grant, take away or act on the built-in roles, or to mark an address verified that
#: Vestibule did not deliver to. A client holds them only when registered with them.
GRANT_ROLES_SCOPE = "roles:grant"
VOUCH_SCOPE = "users:verify"


@dataclass(frozen=True)
class Caller:
    """Who asks: the label events record (``account:<sub>``, ``client:<id>``, ``cli``)
    and, for a machine, the scopes its token carries."""

    actor: str
    scopes: frozenset[str] = frozenset()

    def holds(self, scope: str) -> bool:
        """Whether this caller's token carries ``scope`` (only machines' are counted)."""
        return scope in self.scopes


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    code = "insufficient_role"


class MissingScope(Forbidden):
    """A machine's token lacks a scope this request needs beyond the route's own
    (RFC 6750's ``insufficient_scope``; the body names the scope)."""

    code = "insufficient_scope"

    def __init__(self, scope: str, what: str):
        super().__init__(f"{what} needs the scope {scope}", scope=scope)


def person_may(role_names: set[str], action: str) -> bool:
    """Whether any of these roles allows ``action``."""
    return any(action in ROLE_ACTIONS.get(role, ()) for role in role_names)


def may_read_users(caller: Caller) -> bool:
    """Whether ``caller`` may read accounts (a refusal may then name one by its sub): a
    machine with the scope users:read, a person whose roles allow users.read, the CLI."""
    kind, _, ident = caller.actor.partition(":")
    if kind == "client":
        return caller.holds("users:read")
    if kind == "account":
        return person_may({role.name for role in accounts.find(ident).roles}, "users.read")
    return True


def refuse_roles_beyond_caller(caller: Caller, role_names: Iterable[str]) -> None:
    """A caller may grant, take away or act on roles only within their own powers
    (spec §3.6): a person within their roles' (a ``secondary_admin`` cannot make anyone
    an ``admin``), a machine on the built-in roles only with the scope ``roles:grant``.
    The CLI (an operator on the server) is not limited."""
    names = set(role_names)
    kind, _, ident = caller.actor.partition(":")
    if kind == "account":
        _refuse_beyond_person(accounts.find(ident), names)
    elif kind == "client":
        built_in = sorted(names & BUILT_IN_ROLES)
        if built_in and not caller.holds(GRANT_ROLES_SCOPE):
            what = f"granting, taking away or acting on the built-in role {', '.join(built_in)}"
            raise MissingScope(GRANT_ROLES_SCOPE, what)


def _refuse_beyond_person(person: Account, names: set[str]) -> None:
    own: set[str] = set()
    for role in person.roles:
        own |= ROLE_ACTIONS.get(role.name, frozenset())
    beyond = sorted(name for name in names if not ROLE_ACTIONS.get(name, frozenset()) <= own)
    if beyond:
        raise Forbidden(f"your roles do not allow granting or acting on {', '.join(beyond)}")


def refuse_account_beyond_caller(caller: Caller, sub: str, granting: Iterable[str] = ()) -> None:
    """Every write to an account (its fields, groups, roles, disabling, password links)
    needs the powers of the roles it holds and of those it is given: a
    ``secondary_admin`` cannot edit an ``admin`` at all, nor a machine without
    ``roles:grant``."""
    held = {role.name for role in accounts.find(sub).roles}
    refuse_roles_beyond_caller(caller, held | set(granting))


def refuse_invitation_beyond_caller(caller: Caller, public_id: str) -> None:
    """Resending or revoking an invitation acts on the roles it will grant: a caller
    may do it only within their own powers (a resent link is shown to the resender
    when the invitation sends no message, so a ``user_invite`` could otherwise pass
    an ``admin`` invitation to anyone)."""
    refuse_roles_beyond_caller(caller, (role.name for role in invitations.find(public_id).roles))


def refuse_vouching_beyond_caller(caller: Caller, vouches: bool) -> None:
    """Marking an address verified that Vestibule did not deliver to is vouching for
    it: a machine needs the scope ``users:verify``, a person the role ``admin``."""
    if not vouches:
        return
    kind, _, ident = caller.actor.partition(":")
    if kind == "client" and not caller.holds(VOUCH_SCOPE):
        raise MissingScope(VOUCH_SCOPE, "marking an address verified")
    if kind == "account" and "admin" not in {role.name for role in accounts.find(ident).roles}:
        raise Forbidden("only an admin may mark an address verified")
