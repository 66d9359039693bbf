"""``vestibule clients``: register OAuth clients, list them, rotate a secret."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.accounts.mfa_policy import CLIENT_POLICIES
from app.clients.service import ClientError, create_client, list_clients, rotate_secret
from config import SIGNUP_MODES


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
@click.option(
    "--mfa",
    type=click.Choice(CLIENT_POLICIES),
    default="off",
    show_default=True,
    help="Second factor after the password: for everyone, for people who set it up, or off.",
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
    mfa,
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
            mfa=mfa,
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
