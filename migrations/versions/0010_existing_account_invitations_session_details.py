"""invitations.existing_account; browser_sessions.user_agent, ip_address, last_seen_at

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:55:00

Written by hand (issue 15). An invitation may be for a person who already has an
account ("join"): existing invitations are not (false). The account page lists a
person's sessions with their browser, address and last use: unknown (null) for the
sessions that exist already.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("existing_account", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("browser_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_agent", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("ip_address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("browser_sessions", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("ip_address")
        batch_op.drop_column("user_agent")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("existing_account")
