"""`scribe history export` as an administrator runs it: a user's history, filtered, to a file that parses back."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.history import HistoryEntry
from domain.usage import Spend
from domain.users import Email, User
from infrastructure.persistence.database import make_engine, make_session_factory
from infrastructure.persistence.repositories import SqlHistoryRepository, SqlUserRepository
from tests.services import clean_env, run_scribe

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _entry(user: User, n: int, language: str) -> HistoryEntry:
    return HistoryEntry(
        uuid.uuid4(), user.id, "h" * 64, "general", "summary", f'Źródło nr {n}, "w cudzysłowie"\nи дальше',
        None, None, None, None, None, None, "dQw4w9WgXcQ", None, f"=Tytuł {n}", language, "anthropic", "claude-x",
        Spend(10, 5, 0.001), None, 100, False, START + timedelta(minutes=n),
    )  # fmt: skip


async def _user_with_history(database_url: str, languages: list[str]) -> tuple[str, list[HistoryEntry]]:
    user = User.register(Email(f"cli-{uuid.uuid4().hex[:8]}@example.com"), "hash", now=START)
    entries = [_entry(user, n, language) for n, language in enumerate(languages)]
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as s:
            await SqlUserRepository(s).add(user)
            for entry in entries:
                await SqlHistoryRepository(s).add(entry)
            await s.commit()
    finally:
        await engine.dispose()
    return user.email, entries


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return clean_env(SCRIBE_DATABASE_URL=database_url, SCRIBE_LOG_FORMAT="json", COLUMNS="200")


def test_export_writes_the_users_filtered_history_to_a_file(
    database_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    email, entries = asyncio.run(_user_with_history(database_url, ["pl", "en", "pl"]))
    out = tmp_path / "history.csv"

    result = run_scribe(
        "history", "export", "--user", email, "--format", "csv", "--out", str(out), "--language", "pl", env=env
    )

    assert result.returncode == 0, result.stderr
    assert f"exported 2 entries to {out}" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert [row["title"] for row in rows] == ["'=Tytuł 2", "'=Tytuł 0"]  # newest first, formulas defused
    assert rows[0]["summary"] == entries[2].summary
    assert not list(tmp_path.glob("*.part"))

    lines = tmp_path / "history.jsonl"
    assert (
        run_scribe(
            "history", "export", "--user", email.upper(), "--format", "jsonl", "--out", str(lines), env=env
        ).returncode
        == 0
    )
    assert [json.loads(line)["id"] for line in lines.read_text().splitlines()] == [str(e.id) for e in reversed(entries)]


def test_export_refuses_an_unknown_user_and_bad_dates_and_leaves_no_file(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "history.json"
    unknown = run_scribe(
        "history", "export", "--user", "nobody@example.com", "--format", "json", "--out", str(out), env=env
    )
    assert unknown.returncode == 1
    assert "no user with e-mail nobody@example.com" in unknown.stderr

    email, _ = asyncio.run(_user_with_history(env["SCRIBE_DATABASE_URL"], ["pl"]))
    reversed_range = run_scribe(
        "history", "export", "--user", email, "--format", "json", "--out", str(out),
        "--from", "2026-11-05", "--to", "2026-11-04", env=env,
    )  # fmt: skip
    assert reversed_range.returncode == 1
    assert "from must not be after `to`" in reversed_range.stderr
    assert list(tmp_path.iterdir()) == []
