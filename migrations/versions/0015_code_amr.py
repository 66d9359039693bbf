"""authorization_codes.amr: how the person signed in, carried from the browser session
to the ID token

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 14:00:00

Written by hand (issue 16). A code remembers the session's authentication methods
(``pwd``, ``otp``, ``mfa``, ``hwk``/``swk``) when it is issued, so the token endpoint
puts ``amr`` and ``acr`` in the ID token without reading the session (no extra
statement). Null for codes issued before: a password.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("authorization_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amr", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("authorization_codes", schema=None) as batch_op:
        batch_op.drop_column("amr")
