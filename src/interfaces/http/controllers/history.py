"""`/api/v1/history`: the caller's processing results, newest first; read, export, delete one or all."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Response, delete, get
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Stream

from application.auth.authenticate import Principal
from application.history import (
    ClearHistory,
    DeleteHistoryEntry,
    GetHistoryEntry,
    HistoryQuery,
    HistorySelection,
    ListHistory,
)
from application.history_export import ExportChunk, ExportFormat, ExportHistory, ExportHistoryEntry, media_types
from application.presenters.history import HistoryEntryView
from domain.search import MAX_QUERY_CHARS
from interfaces.http.controllers.history_schemas import HistoryItemView
from interfaces.http.controllers.me import CursorParam, Limit
from interfaces.http.envelope import Envelope, ListPage, ok
from interfaces.http.identity import BEARER_AUTH
from interfaces.http.openapi import PARAMETERS, SIGNED_IN, download, errors

Text = Annotated[str | None, Parameter(max_length=100)]
MOMENT = "An ISO date (a whole day, UTC) or datetime (UTC unless it has an offset)"
DateFrom = Annotated[str | None, QueryParameter(name="from", max_length=40, description=MOMENT)]
DateTo = Annotated[str | None, QueryParameter(name="to", max_length=40, description=MOMENT)]
Cached = Annotated[bool | None, QueryParameter(description="Cached results (true) or fresh ones")]
Words = Annotated[
    str | None,
    QueryParameter(
        max_length=MAX_QUERY_CHARS,
        description="Words to find in the title, summary, topics, social post or custom output; each matches words "
        "that start with it, accents or not (`zrodlo` finds `źródło` and back)",
    ),
]
ENTRY_SCHEMA = Reference("#/components/schemas/HistoryEntryView")  # GET /history/{id} documents it
Format = Annotated[
    ExportFormat,
    QueryParameter(
        name="format",
        description="`json` (one entry: its object; many: a JSON array), `jsonl` (JSON lines), `csv` (one row per "
        "entry), `md` (Markdown), `pdf` (one entry: a PDF; many: a zip of PDFs)",
    ),
]


class HistoryController(Controller):
    path = "/history"
    tags = ["history"]
    security = BEARER_AUTH

    @get(
        "/",
        summary="Your processing history, newest first",
        description="Filters combine with AND. `from`/`to` are inclusive. With `q`, the best matches come first "
        "(then the newest) and each item has a `snippet` of where it matched. `next_cursor` pages on through the same "
        "filters: a cursor altered, or minted for other filters or another user, is 400 `invalid_cursor`. Entries "
        "added while you page come before your first page, so a walk never repeats or skips one.",
        responses=errors(PARAMETERS, SIGNED_IN, ListHistory),
    )
    @inject
    async def list_history(
        self,
        principal: FromDishka[Principal],
        list_history: FromDishka[ListHistory],
        purpose: Text = None,
        language: Text = None,
        provider: Text = None,
        model: Text = None,
        video_id: Text = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        cached: Cached = None,
        q: Words = None,
        limit: Limit = None,
        cursor: CursorParam = None,
    ) -> Envelope[ListPage[HistoryItemView]]:
        query = HistoryQuery(purpose, language, provider, model, video_id, date_from, date_to, cached, q, limit, cursor)
        page = await list_history(principal, query)
        return ok(ListPage([HistoryItemView.of(hit) for hit in page.items], page.next_cursor))

    @get(
        "/export",
        summary="Download your history, filtered, as one file",
        description="The same filters as the list, every matching entry in one download (newest first; with `q`, "
        "best match first), streamed as it is read. `pdf` gives a zip with one PDF per entry, "
        "named `<date>-<video id>.pdf`. CSV cells a spreadsheet would run as a formula start with `'`.",
        responses=errors(PARAMETERS, SIGNED_IN, ExportHistory),
        operation_class=download(
            "The file, streamed; `Content-Disposition` names it `scribe-history-<today>.<format>`",
            media_types(many=True),
            Schema(type=OpenAPIType.ARRAY, items=ENTRY_SCHEMA),
        ),
    )
    @inject
    async def export_history(
        self,
        principal: FromDishka[Principal],
        export_history: FromDishka[ExportHistory],
        export_format: Format,
        purpose: Text = None,
        language: Text = None,
        provider: Text = None,
        model: Text = None,
        video_id: Text = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        cached: Cached = None,
        q: Words = None,
    ) -> Stream:
        selection = HistorySelection(purpose, language, provider, model, video_id, date_from, date_to, cached, q)
        export = await export_history(principal, selection, export_format)  # refuses bad filters before any byte
        return Stream(_data(export.chunks), media_type=export.media_type, headers=_attachment(export.filename))

    @get(
        "/{entry_id:uuid}/export",
        summary="Download one history entry as a file",
        responses=errors(PARAMETERS, SIGNED_IN, ExportHistoryEntry),
        operation_class=download(
            "The file; `Content-Disposition` names it `<date>-<video id>.<format>`",
            media_types(many=False),
            ENTRY_SCHEMA,
        ),
    )
    @inject
    async def export_entry(
        self,
        entry_id: FromPath[uuid.UUID],
        principal: FromDishka[Principal],
        export_entry: FromDishka[ExportHistoryEntry],
        export_format: Format,
    ) -> Response[bytes]:
        exported = await export_entry(principal, entry_id, export_format)
        return Response(exported.content, media_type=exported.media_type, headers=_attachment(exported.filename))

    @get(
        "/{entry_id:uuid}",
        summary="One history entry in full",
        description="Every output, the mind map, the topics and who served and paid for each output.",
        responses=errors(PARAMETERS, SIGNED_IN, GetHistoryEntry),
    )
    @inject
    async def get_entry(
        self, entry_id: FromPath[uuid.UUID], principal: FromDishka[Principal], get_entry: FromDishka[GetHistoryEntry]
    ) -> Envelope[HistoryEntryView]:
        return ok(HistoryEntryView.of(await get_entry(principal, entry_id)))

    @delete(
        "/{entry_id:uuid}",
        summary="Delete one history entry",
        responses=errors(PARAMETERS, SIGNED_IN, DeleteHistoryEntry),
    )
    @inject
    async def delete_entry(
        self,
        entry_id: FromPath[uuid.UUID],
        principal: FromDishka[Principal],
        delete_entry: FromDishka[DeleteHistoryEntry],
    ) -> None:
        await delete_entry(principal, entry_id)

    @delete(
        "/",
        summary="Delete your whole history",
        description="Needs `confirm=true`; without it nothing is deleted and the answer is 400.",
        responses=errors(PARAMETERS, SIGNED_IN, ClearHistory),
    )
    @inject
    async def clear(
        self,
        principal: FromDishka[Principal],
        clear: FromDishka[ClearHistory],
        confirm: Annotated[bool, Parameter(description="Must be true")] = False,
    ) -> None:
        await clear(principal, confirm)


async def _data(chunks: AsyncIterator[ExportChunk]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk.data


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}  # names are [A-Za-z0-9._-] only
