"""``vestibule seed``: demo data for local development (``make run``).

It crosses domains (an admin account, two clients, a signing key), so it sits
beside them rather than in one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from app.accounts.service import create_account, find_by_email
from app.clients.service import create_client, find_client
from app.oauth import keys


@click.command()
@with_appcontext
def seed():
    """Create the demo admin and clients for local development (idempotent)."""
    cfg = current_app.config
    if cfg.get("DEMO_ADMIN_PASSWORD") is None:
        raise click.ClickException("seed is for development only")
    keys.ensure_signing_key()
    _ensure_demo_admin(cfg)
    _ensure_demo_clients(cfg)
    click.echo(
        SEED_MESSAGE.format(
            issuer=cfg["ISSUER"],
            email=cfg["DEMO_ADMIN_EMAIL"],
            password=cfg["DEMO_ADMIN_PASSWORD"],
            secret=cfg["DEMO_CLIENT_SECRET"],
        )
    )


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


SEED_MESSAGE = """
Vestibule is seeded for local development.

  Admin account      {email} / {password}
  Demo client        demo-confidential / {secret} (first-party, confidential)
  Demo public client demo-public (public, PKCE, shows the consent screen)

Try a sign-in with PKCE: open {issuer}/playground/ and press "Sign in".
Discovery: {issuer}/.well-known/openid-configuration
"""
