"""signing keys: private JWK sealed at rest, public JWK in clear, rotation state

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:25:00

Written by hand. Existing clear private keys are sealed with the SECRET_KEY of the
app running the migration (Flask-Migrate runs it inside the app context), so run
``flask db upgrade`` with the server's own configuration. The newest unretired key
becomes ``current``, other unretired keys ``previous``. The downgrade unseals them
back; ``next`` keys, which never signed and which the old code would have used at
once, are retired.
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.crypto import seal, unseal

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Frozen here: must stay what app.oauth.keys.SEAL_PURPOSE was when this was written.
SEAL_PURPOSE = "signing-key"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth"}

signing_keys = sa.table(
    "signing_keys",
    sa.column("id", sa.Integer),
    sa.column("kid", sa.String),
    sa.column("alg", sa.String),
    sa.column("state", sa.String),
    sa.column("private_jwk", sa.JSON),
    sa.column("public_jwk", sa.JSON),
    sa.column("private_jwk_sealed", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("retired_at", sa.DateTime(timezone=True)),
)


def upgrade():
    _refuse_offline()
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("public_jwk", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("private_jwk_sealed", sa.Text(), nullable=True))

    _seal_rows()
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.alter_column("state", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("public_jwk", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("private_jwk_sealed", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("private_jwk")


def downgrade():
    _refuse_offline()
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_jwk", sa.JSON(), nullable=True))

    _unseal_rows()
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.alter_column("private_jwk", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("private_jwk_sealed")
        batch_op.drop_column("public_jwk")
        batch_op.drop_column("state")


def _refuse_offline():
    # Sealing needs SECRET_KEY and the rows themselves: no SQL script can do it.
    if op.get_context().as_sql:
        raise RuntimeError("0006 converts signing keys row by row: run it online")


def _seal_rows():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(signing_keys.c.id, signing_keys.c.kid, signing_keys.c.alg)
        .add_columns(signing_keys.c.private_jwk, signing_keys.c.retired_at)
        .order_by(signing_keys.c.created_at.desc(), signing_keys.c.id.desc())
    ).all()
    # The old code signed with the newest unretired key and published the others.
    signer = next((row.id for row in rows if row.retired_at is None), None)
    for row in rows:
        values = {
            "state": _state(row, signer),
            "public_jwk": _public_jwk(row),
            "private_jwk_sealed": seal(json.dumps(row.private_jwk), SEAL_PURPOSE),
        }
        bind.execute(signing_keys.update().where(signing_keys.c.id == row.id).values(values))


def _state(row, signer_id):
    if row.retired_at is not None:
        return "retired"
    return "current" if row.id == signer_id else "previous"


def _public_jwk(row):
    public = {name: value for name, value in row.private_jwk.items() if name not in PRIVATE_MEMBERS}
    public.update({"kid": row.kid, "use": "sig", "alg": row.alg})
    return public


def _unseal_rows():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(signing_keys.c.id, signing_keys.c.state, signing_keys.c.private_jwk_sealed)
    ).all()
    now = datetime.now(UTC)
    for row in rows:
        values = {"private_jwk": json.loads(unseal(row.private_jwk_sealed, SEAL_PURPOSE))}
        if row.state == "next":
            values["retired_at"] = now
        bind.execute(signing_keys.update().where(signing_keys.c.id == row.id).values(values))
