"""The ``vestibule`` command group (a Flask CLI group; ``db`` comes from Flask-Migrate)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.accounts.service import AccountError, create_account, find_by_email
from app.clients.service import ClientError, create_client, find_client, list_clients, rotate_secret
from app.oauth import keys


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    app.cli.add_command(clients)
    app.cli.add_command(users)
    app.cli.add_command(keys_group)
    app.cli.add_command(seed)


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
        click.echo(
            f"{client.client_id}\t{client.name}\t{kind}\t{party}\t{' '.join(client.redirect_uris)}"
        )


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


@click.group("keys")
def keys_group():
    """Manage ID-token signing keys."""


@keys_group.command("rotate")
@with_appcontext
def keys_rotate():
    """Add a new signing key; the previous one stays in the JWKS."""
    row = keys.rotate_keys()
    click.echo(f"new signing key kid={row.kid}")


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
