"""History entries as downloadable text: CSV analytics rows, Markdown, JSON and JSON lines. Pure formatting of
entries already read; `application.history_export` pages the entries through these functions."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC
from typing import Any

import msgspec

from application.presenters.history import HistoryEntryView
from domain.history import HistoryEntry
from domain.transcripts import format_timestamp

CSV_COLUMNS = (
    "date",
    "video",
    "title",
    "purpose",
    "language",
    "provider",
    "model",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "duration_ms",
    "cached",
    "summary",
)
# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Without a byte order mark Excel reads a CSV file in the system's code page and garbles Polish letters.
CSV_BOM = "\ufeff"


def neutralised(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, with a leading apostrophe: shown as the text it is."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_rows(entries: Iterable[HistoryEntry], *, header: bool) -> str:
    """One row per entry (RFC 4180: quoted where needed, CRLF line ends); with `header`, the BOM and column names
    first."""
    buffer = io.StringIO()
    if header:
        buffer.write(CSV_BOM)
    writer = csv.writer(buffer)
    if header:
        writer.writerow(CSV_COLUMNS)
    writer.writerows([neutralised(cell) for cell in _csv_cells(entry)] for entry in entries)
    return buffer.getvalue()


def _csv_cells(entry: HistoryEntry) -> list[str]:
    spend = entry.spend.rounded
    return [
        entry.created_at.astimezone(UTC).isoformat(),
        entry.video_url or entry.video_id or "",
        entry.title or "",
        entry.purpose or "",
        entry.language,
        entry.provider,
        entry.model,
        str(spend.tokens_in),
        str(spend.tokens_out),
        f"{spend.cost_usd:.6f}",
        str(entry.duration_ms),
        "true" if entry.cached else "false",
        entry.summary or "",
    ]


def json_entry(entry: HistoryEntry) -> bytes:
    """The entry as `GET /api/v1/history/{id}` shows it."""
    return msgspec.json.encode(HistoryEntryView.of(entry))


def markdown_entry(entry: HistoryEntry, *, heading: str = "#") -> str:
    """The entry as a Markdown section under a `heading`-level title: what it is, then each output."""
    sub = heading + "#"
    spend = entry.spend.rounded
    facts = [
        f"- **Date:** {entry.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        *([f"- **Video:** {entry.video_url or entry.video_id}"] if entry.video_url or entry.video_id else []),
        *([f"- **Purpose:** {entry.purpose}"] if entry.purpose else []),
        f"- **Language:** {entry.language}",
        f"- **Provider:** {entry.provider} / {entry.model}" + (" (cached)" if entry.cached else ""),
        f"- **Tokens:** {spend.tokens_in} in, {spend.tokens_out} out; **cost:** ${spend.cost_usd:.6f}; "
        f"**duration:** {entry.duration_ms} ms",
    ]
    sections = [f"{heading} {_one_line(entry.title or entry.video_id or 'Untitled')}", "\n".join(facts)]
    if entry.summary:
        sections += [f"{sub} Summary", entry.summary]
    if entry.key_topics:
        sections += [f"{sub} Key topics", "\n".join(_key_topic(topic) for topic in entry.key_topics)]
    elif entry.topics:
        sections += [f"{sub} Topics", entry.topics]
    outline = _mind_map_outline(entry.mind_map)
    if outline:
        sections += [f"{sub} Mind map", outline]
    if entry.social_post:
        sections += [f"{sub} Social post", entry.social_post]
    if entry.custom_output:
        prompt = [f"> {_one_line(entry.custom_prompt)}"] if entry.custom_prompt else []
        sections += [f"{sub} Custom output", *prompt, entry.custom_output]
    return "\n\n".join(section.strip("\n") for section in sections) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _key_topic(topic: dict[str, Any]) -> str:
    timestamp = topic.get("timestamp")
    at = f" ({format_timestamp(timestamp)})" if isinstance(timestamp, int | float) else ""
    return f"- {_one_line(str(topic.get('title', '')))}{at}"


def _mind_map_outline(graph: dict[str, Any] | None) -> str:
    """The stored React Flow graph as a nested list: its nodes come depth first, each with its level."""
    lines = []
    for node in (graph or {}).get("nodes", []):
        data = node.get("data") or {}
        if isinstance(data.get("label"), str) and isinstance(data.get("level"), int):
            lines.append("  " * data["level"] + "- " + _one_line(data["label"]))
    return "\n".join(lines)
