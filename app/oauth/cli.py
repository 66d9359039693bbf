"""``vestibule keys``: list, publish and rotate the ID-token signing keys."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.models import SigningKey, utcnow
from app.oauth import keys


@click.group("keys")
def keys_group():
    """Manage ID-token signing keys (next → current → previous → retired)."""


@keys_group.command("list")
@with_appcontext
def keys_list():
    """Every key: kid, state, created, retired."""
    for row in keys.all_keys():
        retired = row.retired_at.isoformat(timespec="seconds") if row.retired_at else ""
        created = row.created_at.isoformat(timespec="seconds")
        click.echo("\t".join([row.kid, row.state, created, retired]).rstrip())


@keys_group.command("publish-next")
@with_appcontext
def keys_publish_next():
    """Publish a key in the JWKS that does not sign yet; `keys rotate` later makes it sign."""
    row = keys.publish_next_key()
    click.echo(f"next key kid={row.kid} published, not signing")
    click.echo(f"run `vestibule keys rotate` in {_max_age()} s or more, once caches know it")


@keys_group.command("rotate")
@with_appcontext
def keys_rotate():
    """Let the oldest next key (a new one if none) sign; the old one stays published."""
    row = keys.rotate_keys()
    click.echo(f"new signing key kid={row.kid}")
    _warn_if_unannounced(row)


def _warn_if_unannounced(row: SigningKey) -> None:
    # Relying parties that cached the JWKS before the key was published see an
    # unknown kid until their copy expires (they should refetch, not all do).
    age = int((utcnow() - row.created_at).total_seconds())
    if age < _max_age():
        click.echo(
            f"warning: kid={row.kid} was published {age} s ago, less than JWKS_MAX_AGE "
            f"({_max_age()} s); next time run `vestibule keys publish-next` first",
            err=True,
        )


def _max_age() -> int:
    return current_app.config["JWKS_MAX_AGE"]
