"""upgrade head → downgrade base → upgrade head, on both databases, leaving the schema the models describe."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from infrastructure.persistence import migrations
from infrastructure.persistence.models import is_search_structure, metadata
from tests import services


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    try:
        url = services.create_pg_database("migrations")
    except Exception as error:
        services.unavailable("PostgreSQL", error)
    yield url
    services.drop_pg_database(url)


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names: set[str] = await conn.run_sync(
                lambda c: {name for name in inspect(c).get_table_names() if not is_search_structure(name)}
            )
        await engine.dispose()
        return names

    return asyncio.run(read())


def test_migrations_go_up_down_and_up_again(empty_database: str) -> None:
    expected = set(metadata.tables)

    migrations.upgrade(empty_database)
    assert _tables(empty_database) - {"alembic_version"} == expected
    assert migrations.current(empty_database).startswith(f"{services.HEAD_REVISION} (head)")

    migrations.downgrade(empty_database, "base")
    assert _tables(empty_database) - {"alembic_version"} == set()

    migrations.upgrade(empty_database)
    assert _tables(empty_database) - {"alembic_version"} == expected


def test_the_migrated_schema_matches_the_models(empty_database: str) -> None:
    """A model change without its migration (or a hand-written migration that drifts) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrations.upgrade(empty_database)
    compare_type = not empty_database.startswith("sqlite")  # SQLite reflects GUIDs and JSON as other types

    async def differences() -> list[object]:
        engine = create_async_engine(empty_database)
        async with engine.connect() as conn:
            found: list[object] = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(
                        c,
                        opts={
                            "compare_type": compare_type,
                            "include_name": lambda name, _kind, _parents: not is_search_structure(name),
                        },
                    ),
                    metadata,
                )
            )
        await engine.dispose()
        return found

    assert asyncio.run(differences()) == []


def test_rows_written_before_full_text_search_are_found_after_the_upgrade(empty_database: str) -> None:
    from datetime import UTC, datetime

    from application.history import HistoryFilters, HistoryPageRequest
    from domain.users import Email, User
    from infrastructure.persistence.database import make_engine, make_session_factory
    from infrastructure.persistence.models import ProcessingHistoryRow
    from infrastructure.persistence.repositories import SqlHistoryRepository, SqlUserRepository

    user = User.register(Email("old-rows@example.com"), "argon-hash", now=datetime.now(UTC))

    async def write_before() -> None:
        engine = make_engine(empty_database)
        async with make_session_factory(engine)() as session:
            await SqlUserRepository(session).add(user)
            # The table as revision 0004 left it: no search_text column to write or read back.
            await session.execute(
                ProcessingHistoryRow.__table__.insert().values(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    title="Źródło Wisły",
                    summary="Rzeka zaczyna się w Beskidach.",
                    created_at=datetime.now(UTC),
                )
            )
            await session.commit()
        await engine.dispose()

    async def search(words: str) -> int:
        engine = make_engine(empty_database)
        async with make_session_factory(engine)() as session:
            page = await SqlHistoryRepository(session).list_for_user(
                user.id, HistoryFilters(terms=tuple(words.split())), HistoryPageRequest()
            )
        await engine.dispose()
        return len(page.entries)

    migrations.upgrade(empty_database, "0004")
    asyncio.run(write_before())
    migrations.upgrade(empty_database)
    assert asyncio.run(search("zrodlo")) == 1
    assert asyncio.run(search("beskid")) == 1
    assert asyncio.run(search("tatry")) == 0
