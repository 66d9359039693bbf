"""Migrations are code: they build the schema from nothing and match the models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from app.oauth import keys
from tests.conftest import postgres_url_or_skip, private_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """An empty database: a new SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with private_schema(postgres_url_or_skip(), "vestibule_migration") as url:
        yield url


def test_upgrade_from_empty_leaves_nothing_pending(empty_database_url):
    """`db upgrade` on an empty database creates a schema identical to the models."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        assert "accounts" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_downgrade_removes_every_table(empty_database_url):
    """The initial migration's downgrade drops everything it created."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()


def test_db_check_works_before_the_folder_exists(tmp_path):
    """``flask db check`` (and upgrade) on a fresh checkout: the SQLite file's folder
    does not exist yet; it is created. Before ``db upgrade`` the check says the database
    is behind and compares the models with the migrations on a scratch database; after
    it, on the database itself: nothing is pending either way (on PostgreSQL too:
    test_upgrade_from_empty_leaves_nothing_pending)."""
    database = tmp_path / "not-yet" / "vestibule.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    runner = app.test_cli_runner()
    before = runner.invoke(args=["db", "check"])
    assert before.exit_code == 0, before.output
    assert "at no migration" in before.output and "vestibule db upgrade" in before.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    assert "scratch" not in checked.output
    assert database.exists()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("migrated", [False, True])
def test_db_check_fails_on_a_model_change_without_a_migration(tmp_path, migrated):
    """A table the models have and no migration makes fails the check, on the scratch
    database and on an up-to-date one alike."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'c.db'}")
    runner = app.test_cli_runner()
    if migrated:
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    unmigrated = sa.Table(
        "not_migrated", db.metadata, sa.Column("id", sa.Integer, primary_key=True)
    )
    try:
        checked = runner.invoke(args=["db", "check"])
    finally:
        db.metadata.remove(unmigrated)
    assert checked.exit_code == 1
    with app.app_context():
        db.engine.dispose()


def test_0006_seals_clear_signing_keys_and_its_downgrade_unseals_them(empty_database_url):
    """Keys stored in clear before 0006 come out sealed, in the right states and still
    signing; the downgrade gives the clear keys back and retires keys that never signed."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    clear = {name: RSAKey.generate_key(2048, auto_kid=True) for name in ("old", "prior", "newest")}
    with app.app_context():
        upgrade(revision="0005")
        _insert_clear_keys(clear)
        upgrade()
        stored = _stored_signing_keys()
        secret = clear["newest"].as_dict(private=True)["d"]
        assert not any('"d"' in str(row) or secret in str(row) for row in stored)
        assert {row["kid"]: row["state"] for row in stored} == {
            clear["old"].kid: "retired",
            clear["prior"].kid: "previous",
            clear["newest"].kid: "current",
        }
        _assert_signs_and_verifies(clear["newest"].kid)
        upcoming = keys.publish_next_key().kid
        db.session.remove()
        downgrade(revision="0005")
        restored = {row["kid"]: row for row in _stored_signing_keys()}
        for key in clear.values():
            assert json.loads(_as_json(restored[key.kid]["private_jwk"])) == key.as_dict(
                private=True
            )
        assert restored[upcoming]["retired_at"] is not None
        assert restored[clear["newest"].kid]["retired_at"] is None
        db.engine.dispose()


_signing_keys_0005 = sa.table(
    "signing_keys",
    sa.column("kid", sa.String),
    sa.column("alg", sa.String),
    sa.column("private_jwk", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("retired_at", sa.DateTime(timezone=True)),
)


def _insert_clear_keys(clear: dict[str, RSAKey]) -> None:
    now = datetime.now(UTC)
    ages = {"old": (timedelta(days=2), now - timedelta(days=1)), "prior": (timedelta(days=1), None)}
    ages["newest"] = (timedelta(hours=1), None)
    for name, key in clear.items():
        age, retired_at = ages[name]
        values = {"kid": key.kid, "alg": "RS256", "private_jwk": key.as_dict(private=True)}
        values.update(created_at=now - age, retired_at=retired_at)
        db.session.execute(_signing_keys_0005.insert().values(values))
    db.session.commit()


def _stored_signing_keys() -> list[dict]:
    rows = db.session.execute(sa.text("SELECT * FROM signing_keys ORDER BY id")).mappings()
    result = [dict(row) for row in rows]
    db.session.commit()
    return result


def _as_json(value) -> str:
    # Read back raw: SQLite hands JSON over as text, PostgreSQL as a parsed value.
    return value if isinstance(value, str) else json.dumps(value)


def _assert_signs_and_verifies(kid: str) -> None:
    signer = keys.ensure_signing_key()
    assert signer.kid == kid
    header = {"alg": "RS256", "kid": kid}
    token = jwt.encode(header, {"sub": "x"}, keys.private_key(signer), ["RS256"])
    assert jwt.decode(token, keys.verification_keys(), algorithms=["RS256"]).header["kid"] == kid


def test_0017_drops_only_set_ups_never_confirmed(empty_database_url):
    """A row left by a set-up begun before 0017 and never confirmed goes; a confirmed
    authenticator stays. (0017 changes no table, so the models fit the schema at 0016.)"""
    from app.accounts.service import create_account, find
    from app.models.factors import TotpFactor

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0016")
        confirmed = create_account("kept@example.com", "a long enough password", given_name="K")
        unfinished = create_account("gone@example.com", "a long enough password", given_name="G")
        now = datetime.now(UTC)
        db.session.add_all(
            [
                TotpFactor(account_id=confirmed.id, sealed_secret="x", confirmed_at=now),
                TotpFactor(account_id=unfinished.id, sealed_secret="y"),
            ]
        )
        db.session.commit()
        upgrade()
        left = db.session.scalars(sa.select(TotpFactor.account_id)).all()
        assert left == [find(confirmed.sub).id]
        db.session.remove()
        db.engine.dispose()
