"""revocation_outbox: session revocations still to be announced to the other API processes; an index on
auth_sessions.revoked_at, from which every process loads the recent revocations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revocation_outbox",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("session_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("revoked_until", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_outbox")),
    )
    with op.batch_alter_table("revocation_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_revocation_outbox_due", ["next_attempt_at"], unique=False)
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_auth_sessions_revoked_at", ["revoked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_sessions_revoked_at")
    with op.batch_alter_table("revocation_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_revocation_outbox_due")
    op.drop_table("revocation_outbox")
