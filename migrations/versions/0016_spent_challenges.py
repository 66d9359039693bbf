"""spent_challenges: the challenges of passkey sign-ins, so an answer works once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:00:00

Written by hand. A passkey challenge lives in the browser's signed session cookie; the
first answer forgets it there, but a copy of the cookie taken before that answer still
held it until it expired. A passkey sign-in now keeps the digest of its challenge until
then, and the same answer sent again is refused.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spent_challenges",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_spent_challenges")),
    )
    with op.batch_alter_table("spent_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spent_challenges_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("spent_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_challenges_expires_at"))
    op.drop_table("spent_challenges")
