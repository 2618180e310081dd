"""History export over HTTP on both stacks: one entry and a filtered set in every format, parsed back; bad requests;
another user's entries; and a large export that streams in flat memory."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tracemalloc
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import pypdf

from application.presenters.mind_map import react_flow_graph
from domain.history import HistoryEntry
from domain.mind_map import MindMapNodeSpec, build_mind_map
from tests.e2e.conftest import Api
from tests.e2e.test_history_api import START, _entry, _seed, _user

POLISH = "Zażółć gęślą jaźń — Łódź, Kraków"
MIND_MAP = react_flow_graph(
    build_mind_map(
        [
            MindMapNodeSpec("r", "Rzeki Polski", None, None),
            MindMapNodeSpec("b1", "Źródła Wisły", "r", 12.0),
            MindMapNodeSpec("b2", "Dorzecze Odry", "r", 80.0),
            MindMapNodeSpec("l1", "Barania Góra", "b1", 15.0),
        ]
    )
)
NODE_LABELS = ["Rzeki Polski", "Źródła Wisły", "Dorzecze Odry", "Barania Góra"]


def _full_entry(user_id: str, **fields: Any) -> HistoryEntry:
    values: dict[str, Any] = {
        "title": f'Rzeki, "mosty"\ni {POLISH}',
        "summary": f'Wisła płynie, przez Kraków.\nDruga linia z "cudzysłowem", {POLISH}.',
        "key_topics": [{"title": "Źródło rzeki", "timestamp": 12.5}],
        "mind_map": MIND_MAP,
        "social_post": "Posłuchajcie! #rzeki",
        "outputs": "summary key_topics mind_map social_post",
    }
    return _entry(user_id, **{**values, **fields})


def _export_one(api: Api, headers: dict[str, str], entry: HistoryEntry, export_format: str) -> Any:
    response = api.client.get(f"/api/v1/history/{entry.id}/export?format={export_format}", headers=headers)
    assert response.status_code == 200, response.text
    return response


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_one_entry_exports_in_each_format_and_parses_back(api: Api) -> None:
    me, headers = _user(api)
    entry = _full_entry(me)
    _seed(api, entry)
    shown = api.client.get(f"/api/v1/history/{entry.id}", headers=headers).json()["data"]

    as_json = _export_one(api, headers, entry, "json")
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.headers["content-disposition"] == 'attachment; filename="2026-11-01-dQw4w9WgXcQ.json"'
    assert as_json.json() == shown

    as_lines = _export_one(api, headers, entry, "jsonl")
    assert as_lines.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line) for line in as_lines.text.splitlines()] == [shown]

    as_csv = _export_one(api, headers, entry, "csv")
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"].endswith('.csv"')
    [row] = _csv(as_csv.content)
    assert row["title"] == entry.title
    assert row["summary"] == entry.summary
    assert row["video"] == entry.video_url
    assert (row["tokens_in"], row["tokens_out"], row["cost_usd"], row["cached"]) == ("100", "50", "0.001200", "false")

    as_md = _export_one(api, headers, entry, "md")
    assert as_md.headers["content-type"] == "text/markdown; charset=utf-8"
    text = as_md.text
    assert text.startswith(f'# Rzeki, "mosty" i {POLISH}\n')  # a title on one line
    assert str(entry.summary) in text
    assert "- Źródło rzeki (00:12)" in text
    assert "- Rzeki Polski\n  - Źródła Wisły\n    - Barania Góra\n  - Dorzecze Odry" in text
    assert "Posłuchajcie! #rzeki" in text


def test_one_entry_as_a_pdf_has_the_summary_and_the_mind_maps_labels(api: Api) -> None:
    me, headers = _user(api)
    entry = _full_entry(me, summary=f"Wisła płynie przez Kraków. {POLISH}.")
    _seed(api, entry)

    response = _export_one(api, headers, entry, "pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="2026-11-01-dQw4w9WgXcQ.pdf"'
    pages = pypdf.PdfReader(io.BytesIO(response.content)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    assert "Wisła płynie przez Kraków" in text
    for label in NODE_LABELS:
        assert label in text


def test_many_entries_export_filtered_in_each_format(api: Api) -> None:
    me, headers = _user(api)
    polish = [_full_entry(me, language="pl", created_at=START + timedelta(hours=n)) for n in range(3)]
    english = _full_entry(me, language="en", title="English one", summary="About the Tatra mountains.")
    _seed(api, *polish, english, _full_entry(_user(api)[0], language="pl"))
    newest_first = [str(e.id) for e in reversed(polish)]

    def export(export_format: str, query: str = "&language=pl") -> Any:
        response = api.client.get(f"/api/v1/history/export?format={export_format}{query}", headers=headers)
        assert response.status_code == 200, response.text
        return response

    as_json = export("json")
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.headers["content-disposition"].startswith('attachment; filename="scribe-history-')
    assert [item["id"] for item in as_json.json()] == newest_first
    one = api.client.get(f"/api/v1/history/{polish[0].id}", headers=headers).json()["data"]
    assert as_json.json()[-1] == one

    as_lines = export("jsonl")
    assert [json.loads(line)["id"] for line in as_lines.text.splitlines()] == newest_first

    rows = _csv(export("csv").content)
    assert [row["date"] for row in rows] == [e.created_at.isoformat() for e in reversed(polish)]
    assert {row["language"] for row in rows} == {"pl"}

    markdown = export("md").text
    assert markdown.startswith("# Scribe history\n")
    assert markdown.count("\n## ") == 3
    assert "English one" not in markdown

    assert [item["id"] for item in export("json", "&language=pl&from=2026-11-01T13:00:00Z").json()] == newest_first[:2]
    assert [item["id"] for item in export("json", "&q=tatra").json()] == [str(english.id)]
    assert export("json", "&language=de").json() == []
    assert _csv(export("csv", "&language=de").content) == []
    assert export("csv", "&language=de").content.decode("utf-8-sig").startswith("date,video,title")


def test_many_entries_as_a_zip_of_pdfs(api: Api) -> None:
    me, headers = _user(api)
    twice = [_full_entry(me, summary=f"Podsumowanie numer {n}.") for n in range(2)]  # one video, one day
    other = _full_entry(me, video_id=None, video_url=None, created_at=START + timedelta(days=1))
    _seed(api, *twice, other)

    response = api.client.get("/api/v1/history/export?format=pdf", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted(
        ["2026-11-01-dQw4w9WgXcQ.pdf", "2026-11-01-dQw4w9WgXcQ-2.pdf", f"2026-11-02-{other.id}.pdf"]
    )
    summaries = set()
    for name in archive.namelist():
        reader = pypdf.PdfReader(io.BytesIO(archive.read(name)))
        summaries.add(next(s for s in ("numer 0", "numer 1", "Wisła") if s in reader.pages[0].extract_text()))
    assert summaries == {"numer 0", "numer 1", "Wisła"}


def test_bad_format_dates_and_reversed_range_are_400_with_details(api: Api) -> None:
    me, headers = _user(api)
    entry = _entry(me)
    _seed(api, entry)
    for url, field in [
        ("/api/v1/history/export?format=xml", "format"),
        ("/api/v1/history/export", "format"),
        (f"/api/v1/history/{entry.id}/export?format=docx", "format"),
        (f"/api/v1/history/{entry.id}/export", "format"),
        ("/api/v1/history/export?format=csv&from=yesterday", "from"),
        ("/api/v1/history/export?format=csv&to=2026-13-01", "to"),
        ("/api/v1/history/export?format=csv&from=2026-11-05&to=2026-11-04", "from"),
        ("/api/v1/history/export?format=json&q=!!!", "q"),
        ("/api/v1/history/export?format=json&cached=perhaps", "cached"),
    ]:
        response = api.client.get(url, headers=headers)
        assert response.status_code == 400, url
        body = response.json()
        assert body["success"] is False, url
        assert field in [d["field"] for d in body["details"]], url


def test_another_users_entry_is_404_and_never_in_their_export(api: Api) -> None:
    owner, owner_headers = _user(api)
    _, intruder = _user(api)
    entry = _entry(owner)
    _seed(api, entry)

    for export_format in ("json", "jsonl", "csv", "md", "pdf"):
        response = api.client.get(f"/api/v1/history/{entry.id}/export?format={export_format}", headers=intruder)
        assert response.status_code == 404, export_format
        assert response.json()["code"] == "not_found"
    unknown = api.client.get(f"/api/v1/history/{uuid.uuid4()}/export?format=json", headers=owner_headers)
    assert unknown.status_code == 404
    assert api.client.get("/api/v1/history/export?format=json", headers=intruder).json() == []
    assert api.client.get(f"/api/v1/history/{entry.id}/export?format=json", headers=owner_headers).status_code == 200


def test_export_needs_a_signed_in_caller(api: Api) -> None:
    assert api.client.get("/api/v1/history/export?format=json").status_code == 401
    assert api.client.get(f"/api/v1/history/{uuid.uuid4()}/export?format=json").status_code == 401


def _seed_many(api: Api, user_id: str, count: int) -> None:
    summary = 'Długie podsumowanie, z przecinkami i "cudzysłowami". ' * 20  # ~1 kB a row
    for start in range(0, count, 1000):
        _seed(
            api,
            *(
                _entry(user_id, summary=summary, created_at=START + timedelta(seconds=n))
                for n in range(start, min(count, start + 1000))
            ),
        )


def _peak_while_streaming(api: Api, headers: dict[str, str], url: str) -> tuple[int, int]:
    """Runs the request through the app's ASGI interface, dropping each body chunk as it is sent (a test client
    would keep the whole body), and returns the bytes streamed and the peak memory allocated meanwhile."""
    received = 0

    async def call() -> None:
        nonlocal received
        path, _, query = url.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }

        requested, finished = False, asyncio.Event()

        async def receive() -> dict[str, Any]:  # as a server: the request, then a disconnect once the body is sent
            nonlocal requested
            if requested:
                await finished.wait()
                return {"type": "http.disconnect"}
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal received
            if message["type"] == "http.response.start":
                assert message["status"] == 200
            elif message["type"] == "http.response.body":
                received += len(message.get("body", b""))
                if not message.get("more_body"):
                    finished.set()

        await api.client.app(scope, receive, send)  # type: ignore[arg-type]

    tracemalloc.start()
    try:
        api.client.blocking_portal.call(call)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return received, peak


def test_a_ten_thousand_row_export_streams_in_flat_memory(api: Api) -> None:
    small, small_headers = _user(api)
    large, large_headers = _user(api)
    _seed_many(api, small, 1_000)
    _seed_many(api, large, 10_000)
    url = "/api/v1/history/export?format=csv"

    _peak_while_streaming(api, small_headers, url)  # warm the app's caches (compiled queries, schemas)
    small_bytes, small_peak = _peak_while_streaming(api, small_headers, url)
    large_bytes, large_peak = _peak_while_streaming(api, large_headers, url)

    assert large_bytes > 9 * small_bytes  # ten times the rows went out...
    assert large_peak < 2 * small_peak, (small_peak, large_peak)  # ...through about the same memory
    assert large_peak < large_bytes / 4  # and far less than the body itself
