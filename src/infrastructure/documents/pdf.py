"""One history entry as a PDF (SPEC "History and export"): an A4 document with the title, a link to the video, when
and how it was made, the summary, key topics, the mind map drawn as a diagram, the social post and the custom
output, and "Page X of Y" under every page.

Text is set in DejaVu Sans Condensed, shipped in `fonts/` (its licence beside it) and subset into each document, so
Polish and most Latin, Greek and Cyrillic text renders. A character the font has no glyph for (emoji, CJK) prints
as U+FFFD; control characters, and marks and format characters without a glyph, are dropped."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fpdf import FPDF
from fpdf.fonts import TTFFont

from domain.history import HistoryEntry
from infrastructure.documents.diagram import GraphNode, MindMapDiagram, number, read_graph

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
MARGIN = 50.0  # pt; A4 is 595 x 842 pt
FOOTER_ROOM = 50.0  # pt under the last line of text, for the page number
PAGES_ALIAS = "{scribe:pages}"  # what the page count replaces at output; fpdf2's default "{nb}" could be in a summary
HEADING_ROOM = 34.0  # pt a section title takes: space above and its line
HEADING_LINE = 20.0
DIAGRAM_GAP = 6.0  # pt between the mind map's title and the diagram
BODY_SIZE = 10.5
BODY_LINE = BODY_SIZE * 1.4
INK = (17, 24, 39)
MUTED = (107, 114, 128)
ACCENT = (67, 56, 202)
LINK = (37, 99, 235)
_DROPPED_WITHOUT_GLYPH = frozenset({"Cc", "Cf", "Cs", "Mn", "Me", "Zl", "Zp"})


class PdfHistoryRenderer:
    async def render(self, entry: HistoryEntry) -> bytes:
        return await asyncio.to_thread(render_pdf, entry)  # font subsetting and layout are CPU-bound


def render_pdf(entry: HistoryEntry) -> bytes:
    document = _Document(entry)
    document.compose()
    return bytes(document.output())


class _Document(FPDF):
    def __init__(self, entry: HistoryEntry) -> None:
        super().__init__(orientation="portrait", unit="pt", format="A4")
        self._entry = entry
        self.add_font(FAMILY, "", FONTS / "DejaVuSansCondensed.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSansCondensed-Bold.ttf")
        charsets = [set(font.cmap) for font in self.fonts.values() if isinstance(font, TTFFont)]
        self._glyphs = frozenset(set.intersection(*charsets))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=FOOTER_ROOM)
        self.alias_nb_pages(PAGES_ALIAS)
        self.set_title(entry.title or "Untitled video")
        self.set_creator("Scribe")
        self.set_lang(entry.language)
        self.set_creation_date(_utc(entry.created_at))

    def footer(self) -> None:
        self.set_y(-FOOTER_ROOM + 14)
        self._font(8, color=MUTED)
        self.cell(0, 10, f"Page {self.page_no()} of {PAGES_ALIAS}", align="C")

    def printable(self, text: str) -> str:
        """The text with what the font cannot show replaced or dropped (module docstring); line breaks kept."""
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        kept = []
        for char in text:
            if char == "\n" or (ord(char) in self._glyphs and unicodedata.category(char) != "Cc"):
                kept.append(char)
            elif unicodedata.category(char) not in _DROPPED_WITHOUT_GLYPH:
                kept.append("\ufffd")
        return "".join(kept)

    def compose(self) -> None:
        entry = self._entry
        self.add_page()
        self._font(18, bold=True)
        self._paragraph(entry.title or "Untitled video", 18 * 1.25)
        if entry.video_url:
            self._font(BODY_SIZE, color=LINK)
            self._paragraph(entry.video_url, BODY_LINE, link=_web(entry.video_url))
        self._font(9, color=MUTED)
        self._paragraph(_made(entry), 9 * 1.4)
        self._text_section("Summary", entry.summary)
        self._topics()
        self._mind_map()
        self._text_section("Social post", entry.social_post)
        if entry.custom_output is not None:
            self._heading("Custom output")
            if entry.custom_prompt:
                self._font(9, color=MUTED)
                self._paragraph(f"Prompt: {entry.custom_prompt}", 9 * 1.4)
                self.ln(3)
            self._body(entry.custom_output)

    def _font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*color)

    def _heading(self, text: str, room_after: float = 3 * BODY_LINE) -> None:
        """A section title, moved to the next page with its section when not even `room_after` fits under it."""
        if self.get_y() + HEADING_ROOM + room_after > self.page_break_trigger:
            self.add_page()
        self.ln(HEADING_ROOM - HEADING_LINE)
        self.start_section(text)  # the reader's outline (bookmarks) lists the sections
        self._font(13, bold=True, color=ACCENT)
        self.cell(0, HEADING_LINE, text, new_x="LMARGIN", new_y="NEXT")

    def _paragraph(self, text: str, line_height: float, link: str | None = None) -> None:
        """Text across the page in the current font, wrapped, and the cursor back at the left margin under it."""
        self.multi_cell(0, line_height, self.printable(text), align="L", link=link, new_x="LMARGIN", new_y="NEXT")

    def _body(self, text: str) -> None:
        self._font(BODY_SIZE)
        self._paragraph(text, BODY_LINE)

    def _text_section(self, title: str, text: str | None) -> None:
        if text:
            self._heading(title)
            self._body(text)

    def _topics(self) -> None:
        entry = self._entry
        topics = [_topic(item) for item in entry.key_topics or () if isinstance(item, Mapping)]
        topics = [(title, seconds) for title, seconds in topics if title]
        if not topics:
            self._text_section("Topics", entry.topics)
            return
        self._heading("Key topics")
        for title, seconds in topics:
            at = f"{_clock(seconds)}  " if seconds is not None else ""
            self._font(BODY_SIZE)
            self._paragraph(f"\u2022 {at}{title}", BODY_LINE, link=self._at(seconds))

    def _at(self, seconds: float | None) -> str | None:
        """The video at `seconds`, on YouTube."""
        video_id = self._entry.video_id
        if seconds is None or seconds < 0 or not video_id:
            return None
        return f"https://www.youtube.com/watch?v={quote(video_id, safe='')}&t={int(seconds)}s"

    def _mind_map(self) -> None:
        """The diagram under its heading: on this page if it fits, else whole on the next, else from here on over
        as many pages as it takes (a page is never left with the heading alone)."""
        if not self._entry.mind_map:
            return
        nodes, edges = read_graph(self._entry.mind_map)
        if not nodes:
            return
        diagram = MindMapDiagram(self, nodes, edges, self.epw, FAMILY, self.printable)
        page_room = self.page_break_trigger - self.t_margin
        under_heading = HEADING_ROOM + DIAGRAM_GAP
        bands = diagram.bands(self.page_break_trigger - self.get_y() - under_heading, page_room)
        if len(bands) > 1 and (bands[0][0] == bands[0][1] or diagram.height <= page_room - under_heading):
            self.add_page()
            bands = diagram.bands(page_room - under_heading, page_room)
        self._heading("Mind map", room_after=0)
        self.ln(DIAGRAM_GAP)
        for i, band in enumerate(bands):
            if i:
                self.add_page()
            top = self.get_y()
            diagram.draw(self, self.l_margin, top, band, self._node_link)
            self.set_xy(self.l_margin, top + band[1] - band[0])

    def _node_link(self, node: GraphNode) -> str | None:
        return self._at(node.timestamp)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _made(entry: HistoryEntry) -> str:
    parts = [f"{_utc(entry.created_at):%Y-%m-%d %H:%M} UTC"]
    if entry.purpose:
        parts.append(f"purpose: {entry.purpose}")
    parts += [f"language: {entry.language}", f"{entry.provider} / {entry.model}"]
    return " \u00b7 ".join(parts)


def _web(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def _topic(item: Mapping[str, Any]) -> tuple[str, float | None]:
    """Title and seconds of a stored key topic, whatever the row holds."""
    title, seconds = item.get("title"), number(item.get("timestamp"))
    if seconds is not None and seconds < 0:
        seconds = None
    return (title.strip() if isinstance(title, str) else ""), seconds


def _clock(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{second:02}" if hours else f"{minute}:{second:02}"
