"""totp_factors: drop the rows of set-ups that were never confirmed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:10:00

Written by hand, data only. Setting up an authenticator app used to write its row when
the set-up began; now the set-up waits in the browser's session and only a confirmed
authenticator is stored. The rows left by set-ups begun before and never finished count
for nothing, and would stand in the way of the account's one row (account_id is unique).
There is nothing to give back on downgrade: those set-ups are gone from the browsers.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM totp_factors WHERE confirmed_at IS NULL")


def downgrade():
    pass
