"""invitations.lang_chosen: whether the invitation's language was asked for

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:00:00

Written by hand (issue 14): an invitation made with the dashboard's language
"Automatic" keeps DEFAULT_LANG for its message, but its pages follow the invitee's
browser; one given a language (or made through the API with an Accept-Language) speaks
that language. Existing invitations keep speaking theirs: true.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lang_chosen", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("lang_chosen")
