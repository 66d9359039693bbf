"""invitation search indexes: keyset sort orders, the group filter, free text

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:00:00

Written by hand for app/invitations/queries.py (admin API list, spec §3.3):
(created_at, id) and (expires_at, id) serve the sort orders and their cursors and
replace the single-column indexes; invitation_groups.group_id serves the group filter;
a trigram GIN index serves the case-insensitive free-text filter on PostgreSQL.

pg_trgm is installed in schema public (a trusted extension: the database owner may
create it). If it is already installed in another schema, move it first
(``ALTER EXTENSION pg_trgm SET SCHEMA public``). The downgrade leaves the extension
in place, as other schemas may use it.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT_SEARCH_COLUMNS = ["email", "mobile_number", "given_name", "family_name"]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_created_at")
        batch_op.drop_index("ix_invitations_expires_at")
        batch_op.create_index("ix_invitations_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_invitations_expires_at_id", ["expires_at", "id"], unique=False)
        batch_op.create_index(
            "ix_invitations_text_search",
            TEXT_SEARCH_COLUMNS,
            unique=False,
            postgresql_using="gin",
            postgresql_ops=dict.fromkeys(TEXT_SEARCH_COLUMNS, "public.gin_trgm_ops"),
        )
    with op.batch_alter_table("invitation_groups", schema=None) as batch_op:
        batch_op.create_index("ix_invitation_groups_group_id", ["group_id"], unique=False)


def downgrade():
    with op.batch_alter_table("invitation_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_invitation_groups_group_id")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_text_search")
        batch_op.drop_index("ix_invitations_expires_at_id")
        batch_op.drop_index("ix_invitations_created_at_id")
        batch_op.create_index("ix_invitations_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_invitations_created_at", ["created_at"], unique=False)
