"""Export history: one entry as a file, or every entry a selection matches as a stream of chunks.

A bulk export reads the store in keyset pages of EXPORT_PAGE_ROWS and hands each page on as soon as it is
formatted, so memory holds a page, not the result, however many entries match."""

from __future__ import annotations

import re
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Protocol

from application.auth.authenticate import Principal
from application.errors import PermissionDenied
from application.history import (
    HistoryFilters,
    HistoryPageRequest,
    HistoryPosition,
    HistorySelection,
    HistoryStore,
    parse_filters,
)
from application.ports import Clock
from application.presenters.history_export import csv_rows, json_entry, markdown_entry
from domain.api_tokens import Scope
from domain.errors import InvalidInput
from domain.history import HistoryEntry, HistoryEntryNotFound

EXPORT_PAGE_ROWS = 200


class ExportFormat(StrEnum):
    JSON = "json"  # one entry: its object; many: one JSON array
    JSONL = "jsonl"  # JSON lines (NDJSON): one entry's object per line
    CSV = "csv"  # one analytics row per entry, under a header (columns: presenters.history_export.CSV_COLUMNS)
    MD = "md"  # Markdown: each entry's facts and outputs, the mind map as a nested list
    PDF = "pdf"  # one entry: a PDF document; many: a zip of one PDF per entry


# format: (media type, file extension), of one entry's file and of a bulk export. Text is UTF-8 (HTTP says so in
# the content type's charset).
_FILES = {
    ExportFormat.JSON: ("application/json", "json"),
    ExportFormat.JSONL: ("application/x-ndjson", "jsonl"),
    ExportFormat.CSV: ("text/csv", "csv"),
    ExportFormat.MD: ("text/markdown", "md"),
    ExportFormat.PDF: ("application/pdf", "pdf"),
}
_ZIP = ("application/zip", "zip")


def media_types(*, many: bool) -> list[str]:
    """What an export of one entry (or of many) may be, by format."""
    return [(_ZIP if many and f is ExportFormat.PDF else _FILES[f])[0] for f in ExportFormat]


class HistoryPdfRenderer(Protocol):
    """A history entry as a PDF document: title, link, summary, topics, the mind map drawn, the post."""

    async def render(self, entry: HistoryEntry) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ExportedFile:
    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class ExportChunk:
    data: bytes
    entries: int  # how many entries this chunk finished (for progress)


@dataclass(frozen=True, slots=True)
class HistoryExport:
    media_type: str
    filename: str
    total: int  # entries matching when the export began; entries added meanwhile may join the stream
    chunks: AsyncIterator[ExportChunk]  # reads the store as it is consumed: consume it in the same scope


class ExportHistoryEntry:
    raises = (PermissionDenied, HistoryEntryNotFound)

    def __init__(self, history: HistoryStore, pdf: HistoryPdfRenderer) -> None:
        self._history = history
        self._pdf = pdf

    async def __call__(self, principal: Principal, entry_id: uuid.UUID, export_format: ExportFormat) -> ExportedFile:
        principal.require(Scope.READ)
        entry = await self._history.get_for_user(entry_id, principal.user.id)
        if entry is None:
            raise HistoryEntryNotFound
        media_type, extension = _FILES[export_format]
        if export_format is ExportFormat.PDF:
            content = await self._pdf.render(entry)
        else:
            content = _TEXT_WRITERS[export_format](entry)
        return ExportedFile(content, media_type, f"{entry_file_stem(entry)}.{extension}")


class ExportHistory:
    raises = (PermissionDenied, InvalidInput)

    def __init__(self, history: HistoryStore, pdf: HistoryPdfRenderer, clock: Clock) -> None:
        self._history = history
        self._pdf = pdf
        self._clock = clock

    async def __call__(
        self, principal: Principal, selection: HistorySelection, export_format: ExportFormat
    ) -> HistoryExport:
        """Checks the request and counts what it selects now; the chunks are read and formatted as consumed."""
        principal.require(Scope.READ)
        filters = parse_filters(selection)
        total = await self._history.count_for_user(principal.user.id, filters)
        pages = self._pages(principal.user.id, filters)
        pdfs = export_format is ExportFormat.PDF
        media_type, extension = _ZIP if pdfs else _FILES[export_format]
        filename = f"scribe-history-{self._clock.now().astimezone(UTC):%Y-%m-%d}.{extension}"
        chunks = self._zip_of_pdfs(pages) if pdfs else _text_chunks(pages, export_format)
        return HistoryExport(media_type, filename, total, chunks)

    async def _pages(self, user_id: uuid.UUID, filters: HistoryFilters) -> AsyncIterator[list[HistoryEntry]]:
        after: HistoryPosition | None = None
        while True:
            page = await self._history.list_for_user(user_id, filters, HistoryPageRequest(EXPORT_PAGE_ROWS, after))
            if page.entries:
                yield page.entries
            if page.next is None:
                return
            after = page.next

    async def _zip_of_pdfs(self, pages: AsyncIterator[list[HistoryEntry]]) -> AsyncIterator[ExportChunk]:
        """A zip written front to back, a chunk per PDF. Stored, not deflated: a PDF's streams are compressed
        already."""
        sink = _Sink()
        names = _UniqueNames()
        with zipfile.ZipFile(sink, "w") as archive:
            async for page in pages:
                for entry in page:
                    pdf = await self._pdf.render(entry)
                    archive.writestr(zipfile.ZipInfo(names.take(entry_file_stem(entry), "pdf"), _zip_time(entry)), pdf)
                    yield ExportChunk(sink.take(), 1)
        yield ExportChunk(sink.take(), 0)  # the central directory


async def _text_chunks(
    pages: AsyncIterator[list[HistoryEntry]], export_format: ExportFormat
) -> AsyncIterator[ExportChunk]:
    """A chunk per page; a JSON array is `[`, the entries joined by `,`, then `]`."""
    first = True
    if export_format is ExportFormat.JSON:
        yield ExportChunk(b"[", 0)
    async for page in pages:
        yield ExportChunk(_page_text(page, export_format, first=first), len(page))
        first = False
    if export_format is ExportFormat.JSON:
        yield ExportChunk(b"]", 0)
    elif export_format is ExportFormat.CSV and first:
        yield ExportChunk(csv_rows([], header=True).encode(), 0)  # no entries: still a header


def _page_text(page: list[HistoryEntry], export_format: ExportFormat, *, first: bool) -> bytes:
    if export_format is ExportFormat.JSON:
        return (b"" if first else b",") + b",".join(json_entry(entry) for entry in page)
    if export_format is ExportFormat.JSONL:
        return b"".join(json_entry(entry) + b"\n" for entry in page)
    if export_format is ExportFormat.CSV:
        return csv_rows(page, header=first).encode()
    sections = [markdown_entry(entry, heading="##") for entry in page]
    return ("# Scribe history\n\n" if first else "\n---\n\n").encode() + "\n---\n\n".join(sections).encode()


_TEXT_WRITERS: dict[ExportFormat, Callable[[HistoryEntry], bytes]] = {
    ExportFormat.JSON: json_entry,
    ExportFormat.JSONL: lambda entry: json_entry(entry) + b"\n",
    ExportFormat.CSV: lambda entry: csv_rows([entry], header=True).encode(),
    ExportFormat.MD: lambda entry: markdown_entry(entry).encode(),
}


def entry_file_stem(entry: HistoryEntry) -> str:
    """`<date>-<video id>`, or `<date>-<entry id>` without a video: what a downloaded file is named."""
    video = re.sub(r"[^A-Za-z0-9_-]", "", entry.video_id or "")[:64]
    return f"{entry.created_at.astimezone(UTC):%Y-%m-%d}-{video or entry.id}"


def _zip_time(entry: HistoryEntry) -> tuple[int, int, int, int, int, int]:
    moment = entry.created_at.astimezone(UTC)
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)


class _Sink:
    """Where the zip writes: bytes collected until taken. It has no `tell` or `seek`, so zipfile never goes back
    over what was taken (and keeps its own count of offsets)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:  # zipfile leaves a stream it was given open; the protocol asks for this all the same
        pass

    def take(self) -> bytes:
        taken = b"".join(self._parts)
        self._parts.clear()
        return taken


class _UniqueNames:
    """`name.pdf`, then `name-2.pdf`, ...: one video processed twice a day is two files."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def take(self, stem: str, extension: str) -> str:
        count = self._seen.get(stem, 0) + 1
        self._seen[stem] = count
        return f"{stem}.{extension}" if count == 1 else f"{stem}-{count}.{extension}"
