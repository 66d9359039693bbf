"""clients.signup_mode: a per-client override of the global sign-up mode

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00

Written by hand (spec §3.5): null means the client follows the global
``SIGNUP_MODE`` setting, so existing clients keep today's behaviour.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signup_mode", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("signup_mode")
