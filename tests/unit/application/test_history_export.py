"""History export with in-memory fakes: what each format holds, parsed back; CSV injection; paging as it streams."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.auth.authenticate import ALL_SCOPES, Principal
from application.errors import PermissionDenied
from application.history import HistoryFilters, HistoryPage, HistoryPageRequest, HistorySelection
from application.history_export import ExportFormat, ExportHistory, ExportHistoryEntry, HistoryExport
from application.presenters.history_export import csv_rows
from domain.api_tokens import Scope
from domain.errors import InvalidInput
from domain.history import HistoryEntry, HistoryEntryNotFound
from domain.usage import Spend
from domain.users import Email, User
from tests.unit.container import UseCase, use_case_container
from tests.unit.fakes import InMemoryHistory, World

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Spreadsheets run a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Any text a stored entry can hold: PostgreSQL refuses NUL, so no stored text has it.
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60)


def _entry(user_id: uuid.UUID, **fields: Any) -> HistoryEntry:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "transcript_hash": "h" * 64,
        "purpose": "general",
        "outputs": "summary",
        "summary": "Wisła płynie przez Kraków.",
        "topics": None,
        "key_topics": None,
        "mind_map": None,
        "social_post": None,
        "custom_prompt": None,
        "custom_output": None,
        "video_id": "dQw4w9WgXcQ",
        "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "title": "Rzeki",
        "language": "pl",
        "provider": "anthropic",
        "model": "claude-x",
        "spend": Spend(100, 50, 0.0012),
        "attribution": None,
        "duration_ms": 1200,
        "cached": False,
        "created_at": START,
    }
    return HistoryEntry(**{**values, **fields})


def _parsed_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # so a spreadsheet reads it as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def _as_a_spreadsheet_shows_it(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@given(title=TEXT, summary=TEXT)
def test_csv_cells_parse_back_to_any_text_with_formulas_neutralised(title: str, summary: str) -> None:
    entry = _entry(uuid.uuid4(), title=title, summary=summary)
    [row] = _parsed_csv(csv_rows([entry], header=True))
    assert row["title"] == _as_a_spreadsheet_shows_it(title)
    assert row["summary"] == _as_a_spreadsheet_shows_it(summary)


def test_csv_quotes_commas_newlines_and_polish_letters_and_defuses_formulas() -> None:
    user = uuid.uuid4()
    tricky = [
        _entry(user, title='Łódź, "Źródło"\nżółw', summary="a,b\r\nc"),
        _entry(user, title='=HYPERLINK("http://evil","x")', summary="+1+1"),
        _entry(user, title="-2", summary="@SUM(A1)"),
        _entry(user, title="\t=1", summary="\r=1"),
        _entry(user, title="a=b", summary="'quoted"),
    ]
    rows = _parsed_csv(csv_rows(tricky, header=True))
    assert [(r["title"], r["summary"]) for r in rows] == [
        ('Łódź, "Źródło"\nżółw', "a,b\r\nc"),
        ('\'=HYPERLINK("http://evil","x")', "'+1+1"),
        ("'-2", "'@SUM(A1)"),
        ("'\t=1", "'\r=1"),
        ("a=b", "'quoted"),
    ]
    assert list(rows[0]) == [
        "date", "video", "title", "purpose", "language", "provider", "model",
        "tokens_in", "tokens_out", "cost_usd", "duration_ms", "cached", "summary",
    ]  # fmt: skip


class CountingHistory(InMemoryHistory):
    def __init__(self) -> None:
        super().__init__()
        self.pages_read = 0

    async def list_for_user(self, user_id: uuid.UUID, filters: HistoryFilters, page: HistoryPageRequest) -> HistoryPage:
        self.pages_read += 1
        return await super().list_for_user(user_id, filters, page)


class Exports:
    export_many = UseCase(ExportHistory)
    export_one = UseCase(ExportHistoryEntry)

    def __init__(self, world: World) -> None:
        self.container = use_case_container(world)
        self.world = world


@pytest.fixture
def history() -> CountingHistory:
    return CountingHistory()


@pytest.fixture
def exports(history: CountingHistory) -> Exports:
    return Exports(World(history=history))


def _principal(*scopes: Scope) -> Principal:
    user = User.register(Email(f"u{uuid.uuid4().hex[:8]}@example.com"), "hash", now=START)
    return Principal(user, frozenset(scopes) if scopes else ALL_SCOPES)


async def _drain(export: HistoryExport) -> tuple[bytes, int]:
    data, entries = b"", 0
    async for chunk in export.chunks:
        data += chunk.data
        entries += chunk.entries
    return data, entries


async def _export(exports: Exports, principal: Principal, export_format: ExportFormat, **filters: Any) -> bytes:
    export = await exports.export_many(principal, HistorySelection(**filters), export_format)
    data, entries = await _drain(export)
    assert entries == export.total
    return data


@pytest.mark.parametrize("count", [0, 1, 450])  # 450: past two of the export's pages
async def test_json_array_and_json_lines_parse_back_newest_first(
    exports: Exports, history: CountingHistory, count: int
) -> None:
    me = _principal()
    mine = [_entry(me.user.id, created_at=START + timedelta(minutes=n), summary=f"nr {n}") for n in range(count)]
    history.entries += [*mine, _entry(uuid.uuid4())]
    newest_first = [str(e.id) for e in reversed(mine)]

    as_array = json.loads(await _export(exports, me, ExportFormat.JSON))
    assert [item["id"] for item in as_array] == newest_first
    assert [item["summary"] for item in as_array] == [f"nr {n}" for n in reversed(range(count))]

    lines = (await _export(exports, me, ExportFormat.JSONL)).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == newest_first


async def test_a_bulk_export_reads_the_store_a_page_at_a_time_as_it_is_consumed(
    exports: Exports, history: CountingHistory
) -> None:
    me = _principal()
    history.entries += [_entry(me.user.id, created_at=START + timedelta(seconds=n)) for n in range(1000)]
    export = await exports.export_many(me, HistorySelection(), ExportFormat.CSV)
    assert (export.total, history.pages_read) == (1000, 0)

    first = await anext(export.chunks)
    assert (first.entries, history.pages_read) == (200, 1)
    _, rest = await _drain(export)
    assert rest == 800


async def test_a_bulk_pdf_export_is_a_zip_of_one_pdf_per_entry_named_by_date_and_video(
    exports: Exports, history: CountingHistory
) -> None:
    me = _principal()
    same_video = [_entry(me.user.id, title=f"t{n}") for n in range(2)]
    no_video = _entry(me.user.id, video_id=None, video_url=None, created_at=START + timedelta(days=1))
    odd_video = _entry(me.user.id, video_id="../x y", created_at=START - timedelta(days=1))
    history.entries += [*same_video, no_video, odd_video]

    export = await exports.export_many(me, HistorySelection(), ExportFormat.PDF)
    assert (export.media_type, export.filename.endswith(".zip")) == ("application/zip", True)
    archive = zipfile.ZipFile(io.BytesIO((await _drain(export))[0]))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[0] == f"2026-11-02-{no_video.id}.pdf"
    assert sorted(names[1:3]) == ["2026-11-01-dQw4w9WgXcQ-2.pdf", "2026-11-01-dQw4w9WgXcQ.pdf"]
    assert names[3] == "2026-10-31-xy.pdf"
    contents = {archive.read(name) for name in names}
    assert contents == {f"%PDF-fake {e.id} {e.title}".encode() for e in [*same_video, no_video, odd_video]}


async def test_bad_filters_are_refused_before_anything_is_read(exports: Exports, history: CountingHistory) -> None:
    me = _principal()
    with pytest.raises(InvalidInput) as refused:
        await exports.export_many(me, HistorySelection(date_from="2026-11-05", date_to="2026-11-04"), ExportFormat.CSV)
    assert [p.field for p in refused.value.problems] == ["from"]
    with pytest.raises(InvalidInput) as refused:
        await exports.export_many(me, HistorySelection(date_from="soon", q="!!"), ExportFormat.CSV)
    assert sorted(p.field for p in refused.value.problems) == ["from", "q"]
    assert history.pages_read == 0


async def test_export_needs_the_read_scope(exports: Exports, history: CountingHistory) -> None:
    writer = _principal(Scope.WRITE)
    history.entries.append(entry := _entry(writer.user.id))
    with pytest.raises(PermissionDenied):
        await exports.export_many(writer, HistorySelection(), ExportFormat.JSON)
    with pytest.raises(PermissionDenied):
        await exports.export_one(writer, entry.id, ExportFormat.JSON)


async def test_one_entry_as_each_format_and_never_another_users(exports: Exports, history: CountingHistory) -> None:
    me, other = _principal(), _principal()
    entry = _entry(me.user.id, created_at=datetime(2026, 11, 1, 23, 30, tzinfo=UTC) + timedelta(hours=1))
    history.entries.append(entry)

    files = {f: await exports.export_one(me, entry.id, f) for f in ExportFormat}
    assert {f: (x.media_type, x.filename) for f, x in files.items()} == {
        ExportFormat.JSON: ("application/json", "2026-11-02-dQw4w9WgXcQ.json"),
        ExportFormat.JSONL: ("application/x-ndjson", "2026-11-02-dQw4w9WgXcQ.jsonl"),
        ExportFormat.CSV: ("text/csv", "2026-11-02-dQw4w9WgXcQ.csv"),
        ExportFormat.MD: ("text/markdown", "2026-11-02-dQw4w9WgXcQ.md"),
        ExportFormat.PDF: ("application/pdf", "2026-11-02-dQw4w9WgXcQ.pdf"),
    }
    assert json.loads(files[ExportFormat.JSON].content)["id"] == str(entry.id)
    assert files[ExportFormat.JSONL].content.endswith(b"}\n")
    assert _parsed_csv(files[ExportFormat.CSV].content.decode())[0]["summary"] == entry.summary
    assert files[ExportFormat.MD].content.decode().startswith("# Rzeki\n")
    assert files[ExportFormat.PDF].content == f"%PDF-fake {entry.id} Rzeki".encode()

    with pytest.raises(HistoryEntryNotFound):
        await exports.export_one(other, entry.id, ExportFormat.JSON)
    with pytest.raises(HistoryEntryNotFound):
        await exports.export_one(me, uuid.uuid4(), ExportFormat.JSON)


async def test_filters_choose_what_a_bulk_export_holds(exports: Exports, history: CountingHistory) -> None:
    me = _principal()
    polish, english = _entry(me.user.id), _entry(me.user.id, language="en", title="English")
    cached = replace(polish, id=uuid.uuid4(), cached=True)
    history.entries += [polish, english, cached]

    def ids(data: bytes) -> set[str]:
        return {item["id"] for item in json.loads(data)}

    assert ids(await _export(exports, me, ExportFormat.JSON, language="en")) == {str(english.id)}
    assert ids(await _export(exports, me, ExportFormat.JSON, cached=True)) == {str(cached.id)}
    markdown = (await _export(exports, me, ExportFormat.MD, language="pl")).decode()
    assert markdown.startswith("# Scribe history\n\n## Rzeki\n")
    assert "English" not in markdown
