"""password_tokens.address; phone_codes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:00:00

Written by hand (issue 15, items 3 and 4). A verification link proves the address it
was sent to: a new email asked for on the account page becomes the account's email
only when its link is followed, so the link keeps that address (null for the links
that exist already: the account's email, as before). Mobile numbers are verified by a
six-digit code sent by SMS, kept as a keyed hash with its tries.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("password_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=320), nullable=True))
    op.create_table(
        "phone_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_phone_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_codes")),
    )
    with op.batch_alter_table("phone_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phone_codes_account_id"), ["account_id"], unique=False)


def downgrade():
    with op.batch_alter_table("phone_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_codes_account_id"))
    op.drop_table("phone_codes")
    with op.batch_alter_table("password_tokens", schema=None) as batch_op:
        batch_op.drop_column("address")
