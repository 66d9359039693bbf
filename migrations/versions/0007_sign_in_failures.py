"""sign_in_failures: failed password checks per address

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:10:00

Written by hand. Failed sign-ins are counted per (hashed) address across every form
that checks a password, with a back-off.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_sign_in_failures_key_hash")),
    )


def downgrade():
    op.drop_table("sign_in_failures")
