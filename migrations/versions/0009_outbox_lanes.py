"""outbox lanes: claim indexes, the webhook circuit breaker, request ids on deliveries

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00

Written by hand (issue 12): each lane claims its own due items (email and SMS by
kind, webhooks per endpoint), so two indexes lead with kind and with endpoint_id
(they replace the single-column ones, which they cover);
webhook endpoints keep their breaker state (failures in a row, parked until); outbox
items and their attempts keep the id of the request that queued them. Existing
endpoints start closed (no failures, not parked); existing rows have no request id.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_outbox_kind_state_next_attempt_at",
            ["kind", "state", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_outbox_endpoint_id_state_next_attempt_at",
            ["endpoint_id", "state", "next_attempt_at"],
            unique=False,
        )
        batch_op.drop_index("ix_outbox_kind")
        batch_op.drop_index("ix_outbox_endpoint_id")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("parked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("parked_until")
        batch_op.drop_column("consecutive_failures")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_column("request_id")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_endpoint_id", ["endpoint_id"], unique=False)
        batch_op.create_index("ix_outbox_kind", ["kind"], unique=False)
        batch_op.drop_index("ix_outbox_endpoint_id_state_next_attempt_at")
        batch_op.drop_index("ix_outbox_kind_state_next_attempt_at")
        batch_op.drop_column("request_id")
