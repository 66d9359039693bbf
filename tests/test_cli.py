"""The `vestibule` command group."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.crypto import hash_secret
from app.extensions import db
from app.models import Account, Client, SigningKey, utcnow
from app.oauth import keys
from tests.helpers import update_rows


def test_clients_create_prints_secret_once_and_stores_hash(app):
    """`clients create` prints the secret once; the database holds only its hash."""
    result = app.test_cli_runner().invoke(
        args=[
            "clients",
            "create",
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
            "--client-id",
            "shop",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = re.search(r"client_secret: (\S+)", result.output).group(1)
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.client_id == "shop"))
        assert client.client_secret_hash == hash_secret(secret)
        assert secret not in repr(client.__dict__)
    listing = app.test_cli_runner().invoke(args=["clients", "list"])
    assert "shop" in listing.output and secret not in listing.output


def test_clients_create_refuses_bad_redirect_uri(app):
    """A redirect URI with a fragment is refused with a clear message and nothing stored."""
    result = app.test_cli_runner().invoke(
        args=["clients", "create", "--name", "Bad", "--redirect-uri", "https://x.example/cb#frag"]
    )
    assert result.exit_code != 0 and "fragment" in result.output
    with app.app_context():
        assert db.session.scalar(select(Client)) is None


def test_clients_create_stores_signup_mode_and_list_shows_it(app):
    """`clients create --signup-mode` stores the override; `clients list` shows it, and
    clients without one as following the global setting."""
    runner = app.test_cli_runner()
    base = ["clients", "create", "--redirect-uri", "https://shop.example/cb"]
    result = runner.invoke(
        args=[*base, "--name", "Shop", "--client-id", "shop", "--signup-mode", "restricted"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=[*base, "--name", "Blog", "--client-id", "blog"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        modes = dict(db.session.execute(select(Client.client_id, Client.signup_mode)).all())
        assert modes == {"shop": "restricted", "blog": None}
    lines = runner.invoke(args=["clients", "list"]).output.splitlines()
    assert "signup:restricted" in next(line for line in lines if line.startswith("shop\t"))
    assert "signup:global" in next(line for line in lines if line.startswith("blog\t"))


def test_clients_create_refuses_unknown_signup_mode(app):
    """An unknown --signup-mode is refused by the option itself and nothing is stored."""
    result = app.test_cli_runner().invoke(
        args=[
            "clients",
            "create",
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
            "--signup-mode",
            "open",
        ]
    )
    assert result.exit_code == 2 and "signup-mode" in result.output
    with app.app_context():
        assert db.session.scalar(select(Client)) is None


def test_rotate_secret_replaces_the_hash(app, factory):
    """`clients rotate-secret` prints a new secret; the old one no longer matches."""
    rp = factory.client()
    result = app.test_cli_runner().invoke(args=["clients", "rotate-secret", rp.client_id])
    assert result.exit_code == 0, result.output
    new_secret = re.search(r"client_secret: (\S+)", result.output).group(1)
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.client_id == rp.client_id))
        assert client.check_client_secret(new_secret)
        assert not client.check_client_secret(rp.secret)


def test_old_secret_refused_at_token_endpoint_after_rotation(app, factory, client):
    """After rotation the previous secret fails client authentication."""
    rp = factory.client(grant_types=["client_credentials"], scope="profile")
    app.test_cli_runner().invoke(args=["clients", "rotate-secret", rp.client_id])
    response = client.post(
        "/token", headers=rp.basic_auth(), data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_users_create_hashes_password_with_argon2id(app):
    """`users create` stores an argon2id hash, never the password."""
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "Grace@Example.com", "--role", "admin"],
        input="a long passphrase\na long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.email == "grace@example.com"
        assert account.password_hash.startswith("$argon2id$")
        assert [r.name for r in account.roles] == ["admin"]


def test_users_create_refuses_short_password(app):
    """A password under the policy minimum is refused and no account is written."""
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "x@example.com"], input="short\nshort\n"
    )
    assert result.exit_code != 0 and "at least" in result.output
    with app.app_context():
        assert db.session.scalar(select(Account)) is None


def test_keys_rotate_keeps_previous_key_published(app, client):
    """`keys rotate` adds a signing key; the JWKS publishes it and its predecessor."""
    first = client.get("/jwks.json").json["keys"]
    assert len(first) == 1
    app.test_cli_runner().invoke(args=["keys", "rotate"])
    second = client.get("/jwks.json").json["keys"]
    assert len(second) == 2 and first[0]["kid"] in {k["kid"] for k in second}
    app.test_cli_runner().invoke(args=["keys", "rotate"])
    third = client.get("/jwks.json").json["keys"]
    assert len(third) == 2 and first[0]["kid"] not in {k["kid"] for k in third}
    with app.app_context():
        assert len(db.session.scalars(select(SigningKey)).all()) == 3
        assert all("d" not in k for k in third)  # never a private part


def test_keys_publish_next_then_rotate(app, client):
    """`keys publish-next` publishes a key that does not sign; `keys rotate` later makes
    it sign without a warning, and `keys list` shows each key's state."""
    runner = app.test_cli_runner()
    [current] = [k["kid"] for k in client.get("/jwks.json").json["keys"]]
    published = runner.invoke(args=["keys", "publish-next"])
    assert published.exit_code == 0, published.output
    upcoming = re.search(r"kid=(\S+)", published.output).group(1)
    assert {k["kid"] for k in client.get("/jwks.json").json["keys"]} == {current, upcoming}
    with app.app_context():
        assert keys.ensure_signing_key().kid == current
    update_rows(app, SigningKey, {"kid": upcoming}, created_at=utcnow() - timedelta(hours=1))
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0 and f"kid={upcoming}" in rotated.output
    assert "warning" not in rotated.output
    listing = runner.invoke(args=["keys", "list"]).output.splitlines()
    assert [line.split("\t")[:2] for line in listing] == [
        [current, "previous"],
        [upcoming, "current"],
    ]


def test_keys_rotate_in_one_step_warns_about_cached_jwks(app, client):
    """A one-step rotation still works but warns that cached JWKS lack the new kid."""
    client.get("/jwks.json")
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0
    assert "warning" in result.output and "JWKS_MAX_AGE (300 s)" in result.output


def test_seed_refused_outside_development(app):
    """`seed` creates demo credentials only in development."""
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code != 0 and "development only" in result.output
