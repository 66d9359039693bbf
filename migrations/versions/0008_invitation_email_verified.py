"""invitations.email_verified: the creator vouched for the invited email

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:00:00

Written by hand (issue 10): registration marks the invited email verified only when
Vestibule delivered the invitation there, or when the invitation's creator held the
right to vouch for it (a client's scope users:verify, a person's role admin) and said
so. Existing invitations never vouched: false.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("email_verified")
