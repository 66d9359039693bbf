"""``vestibule seed``: demo data for local development (``make run``).

It crosses domains (an admin account, clients, groups and roles, a signing key), so
it sits beside them rather than in one of them. Everything the README's walkthroughs
use against ``make run`` is created here, and only what is missing: running it again
changes nothing, and an older development database gets what it lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.accounts import groups as named
from app.accounts.service import create_account, find_by_email
from app.clients.service import create_client, find_client, update_client
from app.events import CLI_ACTOR
from app.extensions import db
from app.models import Group, Role
from app.oauth import keys

#: The client the README's invitations are for. Its login route is an example: an
#: invitation link to it shows what a relying party receives.
SHOP_CLIENT_ID = "shop"
SHOP_LOGIN_URI = "https://shop.example/login"
#: A machine client of the admin API for the README's curl examples. Its secret is
#: public (printed here and in the README): the seed runs in development only.
BACK_OFFICE_CLIENT_ID = "demo-backoffice"
BACK_OFFICE_SECRET = "demo-backoffice-secret"
BACK_OFFICE_SCOPE = (
    "invitations:read invitations:write users:read users:write "
    "webhooks:read webhooks:write outbox:read outbox:write"
)
#: What the playground's client may be granted: its ID tokens show groups and roles.
PLAYGROUND_SCOPE = "openid profile email phone offline_access groups roles"
#: The groups the README's and the dashboard's CSV samples name, and the built-in roles.
GROUPS = ("staff", "beta")
ROLES = ("admin", "secondary_admin", "user_invite")
#: The issuer ``make run`` serves by default (Makefile HOST and PORT).
MAKE_RUN_ISSUER = "http://127.0.0.1:5000"


@click.command()
@with_appcontext
def seed():
    """Create the demo admin, clients, groups and roles for local development
    (development only; what exists is left as it is)."""
    cfg = current_app.config
    if cfg.get("DEMO_ADMIN_PASSWORD") is None:
        raise click.ClickException("seed is for development only")
    keys.ensure_signing_key()
    _ensure_named(Role, ROLES)
    _ensure_named(Group, GROUPS)
    _ensure_demo_admin(cfg)
    _ensure_demo_clients(cfg)
    _ensure_example_clients()
    click.echo(banner(cfg))


def banner(cfg: Mapping[str, Any]) -> str:
    """What ``make run`` prints before serving: where to go, and how to sign in."""
    issuer = cfg["ISSUER"]
    export = f"\n  export ISSUER={issuer}" if issuer != MAKE_RUN_ISSUER else ""
    return BANNER.format(
        issuer=issuer,
        email=cfg["DEMO_ADMIN_EMAIL"],
        password=cfg["DEMO_ADMIN_PASSWORD"],
        secret=cfg["DEMO_CLIENT_SECRET"],
        back_office=f"{BACK_OFFICE_CLIENT_ID} / {BACK_OFFICE_SECRET}",
        groups=", ".join(GROUPS),
        roles=", ".join(ROLES),
        export=export,
    )


def _ensure_named(model: type[Group] | type[Role], names: tuple[str, ...]) -> None:
    existing = set(db.session.scalars(select(model.name).where(model.name.in_(names))))
    for name in names:
        if name not in existing:
            named.create(model, name, CLI_ACTOR)


def _ensure_demo_admin(cfg: Mapping[str, Any]) -> None:
    if find_by_email(cfg["DEMO_ADMIN_EMAIL"]) is None:
        create_account(
            cfg["DEMO_ADMIN_EMAIL"],
            cfg["DEMO_ADMIN_PASSWORD"],
            given_name="Ada",
            family_name="Admin",
            email_verified=True,
            roles=("admin",),
        )


def _ensure_demo_clients(cfg: Mapping[str, Any]) -> None:
    issuer = cfg["ISSUER"]
    if find_client("demo-confidential") is None:
        create_client(
            "Vestibule Playground",
            [f"{issuer}/playground/callback"],
            client_id="demo-confidential",
            secret=cfg["DEMO_CLIENT_SECRET"],
            first_party=True,
            scope=PLAYGROUND_SCOPE,
            post_logout_redirect_uris=[f"{issuer}/playground/"],
            initiate_login_uri=f"{issuer}/playground/login",
            # Who set up two-step sign-in on the account page is asked for a code.
            mfa="optional",
            allow_http=True,
        )
    else:
        _allow_scopes("demo-confidential", PLAYGROUND_SCOPE)
    # The by-hand flow of the README lands on the playground's code page.
    code_page = f"{issuer}/playground/code"
    public = find_client("demo-public")
    if public is None:
        create_client(
            "Demo public app",
            [code_page],
            client_id="demo-public",
            public=True,
            allow_http=True,
        )
    elif code_page not in public.redirect_uris:
        update_client(
            "demo-public", {"redirect_uris": [*public.redirect_uris, code_page]}, allow_http=True
        )


def _allow_scopes(client_id: str, scope: str) -> None:
    """Give an older database's client the scopes the seed registers it with now."""
    client = find_client(client_id)
    missing = [name for name in scope.split() if name not in client.allowed_scopes]
    if missing:
        update_client(client_id, {"scope": " ".join([*client.allowed_scopes, *missing])})


def _ensure_example_clients() -> None:
    if find_client(SHOP_CLIENT_ID) is None:
        create_client(
            "Shop",
            ["https://shop.example/callback"],
            client_id=SHOP_CLIENT_ID,
            post_logout_redirect_uris=["https://shop.example/"],
            initiate_login_uri=SHOP_LOGIN_URI,
        )
    if find_client(BACK_OFFICE_CLIENT_ID) is None:
        create_client(
            "Demo back office",
            ["https://backoffice.example/cb"],
            client_id=BACK_OFFICE_CLIENT_ID,
            secret=BACK_OFFICE_SECRET,
            grant_types=["client_credentials"],
            scope=BACK_OFFICE_SCOPE,
        )


BANNER = """
Vestibule is seeded for local development.

  Sign in      {issuer}/login as {email} / {password}
  Dashboard    {issuer}/admin/
  Playground   {issuer}/playground/ (press "Sign in": a code flow with PKCE)
  API docs     {issuer}/api/v1/docs (the spec: {issuer}/api/v1/openapi.json)
  Discovery    {issuer}/.well-known/openid-configuration

  Clients      demo-confidential / {secret} (the playground's; first-party)
               demo-public (public, PKCE; lands on {issuer}/playground/code)
               shop (invitations land on https://shop.example/login)
               {back_office} (the admin API: client credentials)
  Groups       {groups}
  Roles        {roles}

The command line, in another terminal in this folder:
  . .venv/bin/activate{export}
  vestibule --help
"""
