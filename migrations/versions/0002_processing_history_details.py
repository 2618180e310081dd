"""users.preferred_provider; processing_history: what produced each result (provider, model, tokens, cost,
duration), the video it came from, the custom prompt/output and the topics with their timestamps.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("outputs", sa.String(length=100), sa.text("''"), False),
    ("key_topics", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), None, True),
    ("custom_prompt", sa.Text(), None, True),
    ("custom_output", sa.Text(), None, True),
    ("video_id", sa.String(length=20), None, True),
    ("video_url", sa.Text(), None, True),
    ("title", sa.Text(), None, True),
    ("language", sa.String(length=8), sa.text("'pl'"), False),
    ("provider", sa.String(length=30), sa.text("''"), False),
    ("model", sa.String(length=100), sa.text("''"), False),
    ("tokens_in", sa.Integer(), sa.text("0"), False),
    ("tokens_out", sa.Integer(), sa.text("0"), False),
    ("cost_usd", sa.Numeric(precision=12, scale=6), sa.text("0"), False),
    ("duration_ms", sa.Integer(), sa.text("0"), False),
    ("cached", sa.Boolean(), sa.text("false"), False),
)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferred_provider", sa.String(length=30), nullable=True))
    with op.batch_alter_table("processing_history", schema=None) as batch_op:
        for name, column_type, default, nullable in _COLUMNS:
            batch_op.add_column(sa.Column(name, column_type, server_default=default, nullable=nullable))
        batch_op.create_index("ix_processing_history_user_video", ["user_id", "video_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processing_history", schema=None) as batch_op:
        batch_op.drop_index("ix_processing_history_user_video")
        for name, *_ in reversed(_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("preferred_provider")
