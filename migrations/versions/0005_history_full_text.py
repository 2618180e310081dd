"""processing_history.search_text (title, summary, topics, social post and custom output, folded: lower case, no
accents) and its full-text index: on PostgreSQL a stored tsvector column (`simple` configuration) with a GIN
index, on SQLite an FTS5 table kept in step by triggers. Existing rows are folded here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.search import searchable_text

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
_SEARCHED = ("title", "summary", "topics", "social_post", "custom_output")


def upgrade() -> None:
    with op.batch_alter_table("processing_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default=sa.text("''"), nullable=False))
    _fold_existing_rows()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE processing_history ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
        )
        op.execute("CREATE INDEX ix_processing_history_search ON processing_history USING gin (search_vector)")
        return
    op.execute("CREATE VIRTUAL TABLE processing_history_fts USING fts5(entry_id UNINDEXED, search_text)")
    op.execute(
        "INSERT INTO processing_history_fts (entry_id, search_text) SELECT id, search_text FROM processing_history"
    )
    op.execute(
        "CREATE TRIGGER processing_history_fts_insert AFTER INSERT ON processing_history BEGIN "
        "INSERT INTO processing_history_fts (entry_id, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER processing_history_fts_delete AFTER DELETE ON processing_history BEGIN "
        "DELETE FROM processing_history_fts WHERE entry_id = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER processing_history_fts_update AFTER UPDATE OF search_text ON processing_history BEGIN "
        "UPDATE processing_history_fts SET search_text = new.search_text WHERE entry_id = old.id; END"
    )


def _fold_existing_rows() -> None:
    history = sa.table("processing_history", sa.column("id"), sa.column("search_text"), *map(sa.column, _SEARCHED))
    connection = op.get_bind()
    last = None
    while True:
        query = sa.select(history.c.id, *(history.c[name] for name in _SEARCHED)).order_by(history.c.id).limit(_BATCH)
        if last is not None:
            query = query.where(history.c.id > last)
        rows = connection.execute(query).all()
        for row in rows:
            connection.execute(
                history.update().where(history.c.id == row[0]).values(search_text=searchable_text(*row[1:]))
            )
        if len(rows) < _BATCH:
            return
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_processing_history_search")
        op.execute("ALTER TABLE processing_history DROP COLUMN search_vector")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER processing_history_fts_{trigger}")
        op.execute("DROP TABLE processing_history_fts")
    with op.batch_alter_table("processing_history", schema=None) as batch_op:
        batch_op.drop_column("search_text")
