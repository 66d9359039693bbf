"""link_exports: the links of a bulk upload, sealed, downloadable once

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 12:00:00

Written by hand (issue 14, item 4). The dashboard's bulk upload keeps the links of the
invitations that send no message for a few minutes, sealed, so the person who made
them can download them once as a CSV file (app/invitations/link_exports.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "link_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("sealed_csv", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_exports")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_link_exports_token_hash")),
    )
    op.create_index(op.f("ix_link_exports_expires_at"), "link_exports", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_link_exports_expires_at"), table_name="link_exports")
    op.drop_table("link_exports")
