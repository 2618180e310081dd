"""Who served and who paid: processing_history.attribution (per output: provider, model, payer, every attempt with
its calls and spend); usage_events.payer and usage_events.history_id (a job writes one event per provider, model
and payer, tied to its history row).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types.guid import GUID
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processing_history", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attribution", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True)
        )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payer", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("history_id", GUID(length=16), nullable=True))
        batch_op.create_foreign_key(
            "fk_usage_events_history_id", "processing_history", ["history_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_usage_events_user_payer_created", ["user_id", "payer", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_events_user_payer_created")
        batch_op.drop_constraint("fk_usage_events_history_id", type_="foreignkey")
        batch_op.drop_column("history_id")
        batch_op.drop_column("payer")
    with op.batch_alter_table("processing_history", schema=None) as batch_op:
        batch_op.drop_column("attribution")
