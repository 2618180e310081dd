"""A history entry's mind map drawn on PDF pages from the React Flow graph the row stores, so the boxes sit where
the API's graph puts them (`application.presenters.mind_map`: one column per level, a parent level with the middle
of its children, box widths by `box_width`).

Readability wins over fitting one page: the graph is scaled to the page width, labels keep their size (LABEL_SIZES,
never under 6 pt) and wrap inside their boxes, and rows are spaced for the tallest box. A map taller than the room
left continues on the next pages, cut only where no box is (`bands`); an edge crossing a cut is drawn on both sides.

Rows keep whatever graph was stored, so it is read defensively: a node without a label or position is left out,
and an edge without both ends with it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fpdf import FPDF
from fpdf.enums import MethodReturnValue

from application.presenters.mind_map import box_width

Rgb = tuple[int, int, int]

LABEL_SIZES = (8.0, 7.5, 7.0, 7.0)  # pt, by level: root, branch, leaf, subleaf
BOLD_LEVELS = (0, 1)
LINE_HEIGHT = 1.25  # times the font size
PAD_Y = 3.0  # pt above and below a box's lines
ROW_GAP = 6.0  # pt between the tallest boxes of two neighbouring rows
MAX_SCALE = 0.5  # pt per graph px: a small map is not blown up past this (labels fit one line here)
MIN_BOX_WIDTH = 30.0  # pt: the widest glyph fits between a box's cell margins
MAX_HEIGHT = 6000.0  # pt, about eight pages: a presenter's graph of MAX_NODES rows needs under half of that
# Box fill, border and text colour by level; an edge takes its target's border colour, as in the app (indigo
# into branches, green into leaves, amber into subleaves).
_FILL: tuple[Rgb, ...] = ((49, 46, 129), (238, 242, 255), (236, 253, 245), (255, 251, 235))
_BORDER: tuple[Rgb, ...] = ((49, 46, 129), (99, 102, 241), (16, 185, 129), (245, 158, 11))
_TEXT: tuple[Rgb, ...] = ((255, 255, 255), (30, 27, 75), (6, 78, 59), (120, 53, 15))


@dataclass(frozen=True, slots=True)
class GraphNode:
    id: str
    label: str
    level: int
    x: float  # graph px: the box's left edge
    y: float  # graph px: the box's row
    timestamp: float | None  # seconds into the video


def read_graph(graph: Mapping[str, Any]) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """The drawable nodes and (source, target) edges of a stored graph."""
    nodes: dict[str, GraphNode] = {}
    for raw in _dicts(graph.get("nodes")):
        data, position = raw.get("data"), raw.get("position")
        if not isinstance(data, Mapping) or not isinstance(position, Mapping):
            continue
        node_id, label, level = raw.get("id"), data.get("label"), data.get("level")
        x, y = number(position.get("x")), number(position.get("y"))
        if isinstance(node_id, str) and isinstance(label, str) and label.strip() and x is not None and y is not None:
            level = level if isinstance(level, int) and 0 <= level < len(LABEL_SIZES) else len(LABEL_SIZES) - 1
            nodes[node_id] = GraphNode(node_id, label, level, x, y, number(data.get("timestamp")))
    edges = [
        (raw["source"], raw["target"])
        for raw in _dicts(graph.get("edges"))
        if raw.get("source") in nodes and raw.get("target") in nodes
    ]
    return list(nodes.values()), edges


def _dicts(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def number(value: object) -> float | None:
    """A stored JSON value as a coordinate or a number of seconds, if it is a plausible one."""
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e6:
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class Box:
    node: GraphNode
    left: float  # pt from the diagram's left edge
    top: float  # pt from the diagram's top
    width: float
    height: float
    lines: list[str]

    @property
    def bottom(self) -> float:
        return self.top + self.height


class MindMapDiagram:
    """The graph laid out for a diagram `width` pt wide; `draw` puts one horizontal band of it on the page."""

    def __init__(
        self,
        pdf: FPDF,
        nodes: list[GraphNode],
        edges: list[tuple[str, str]],
        width: float,
        font_family: str,
        printable: Callable[[str], str],
    ) -> None:
        self._family = font_family
        self._edges = edges
        self.boxes = self._layout(pdf, nodes, width, printable)
        self.height = max((box.bottom for box in self.boxes.values()), default=0.0)

    def _layout(
        self, pdf: FPDF, nodes: list[GraphNode], width: float, printable: Callable[[str], str]
    ) -> dict[str, Box]:
        """Positions scaled to `width`. A box is as wide as the presenter makes it, or wider, up to its column's
        widest box (the next column starts past that), when that keeps its label on one line; it is as tall as
        its wrapped lines."""
        if not nodes:
            return {}
        left_px = min(node.x for node in nodes)
        widths_px = {node.id: box_width(node.label, node.level) for node in nodes}
        span_px = max(node.x + widths_px[node.id] for node in nodes) - left_px
        scale_x = min(MAX_SCALE, width / span_px)
        indent = (width - span_px * scale_x) / 2  # a map narrower than the page is centred
        column_width: dict[float, float] = {}
        for node in nodes:
            column_width[node.x] = max(column_width.get(node.x, 0.0), widths_px[node.id] * scale_x)
        sized: list[tuple[GraphNode, float, list[str], float]] = []
        for node in nodes:
            label = printable(node.label)
            self._font(pdf, node.level)
            one_line = pdf.get_string_width(label) + 2 * pdf.c_margin + 1
            box_w = max(MIN_BOX_WIDTH, min(column_width[node.x], max(widths_px[node.id] * scale_x, one_line)))
            lines = self._wrap(pdf, label, node.level, box_w)
            sized.append((node, box_w, lines, len(lines) * LABEL_SIZES[node.level] * LINE_HEIGHT + 2 * PAD_Y))
        tallest = max(height for *_, height in sized)
        # A column's nodes are at least its closest pair's distance apart: that distance must hold the tallest box.
        columns: dict[float, list[float]] = {}
        for node in nodes:
            columns.setdefault(node.x, []).append(node.y)
        gaps = [b - a for ys in columns.values() for a, b in zip(sorted(ys), sorted(ys)[1:], strict=False) if b > a]
        scale_y = (tallest + ROW_GAP) / min(gaps) if gaps else scale_x
        top_px = min(node.y for node in nodes)
        span_y = max(node.y for node in nodes) - top_px
        if span_y:  # a graph the presenter did not lay out (rows far apart, or nearly on top of each other)
            scale_y = min(scale_y, MAX_HEIGHT / span_y)
        return {
            node.id: Box(
                node,
                indent + (node.x - left_px) * scale_x,
                (node.y - top_px) * scale_y + (tallest - height) / 2,  # rows are centred on the tallest box's middle
                box_w,
                height,
                lines,
            )
            for node, box_w, lines, height in sized
        }

    def _font(self, pdf: FPDF, level: int) -> None:
        pdf.set_font(self._family, "B" if level in BOLD_LEVELS else "", LABEL_SIZES[level])

    def _wrap(self, pdf: FPDF, label: str, level: int, box_w: float) -> list[str]:
        self._font(pdf, level)
        lines = pdf.multi_cell(
            box_w, LABEL_SIZES[level] * LINE_HEIGHT, label, dry_run=True, output=MethodReturnValue.LINES
        )
        assert isinstance(lines, list)  # what output=LINES returns
        return [str(line) for line in lines] or [""]

    def bands(self, first_room: float, page_room: float) -> list[tuple[float, float]]:
        """(top, bottom) slices of the diagram, the first at most `first_room` tall and the others `page_room`,
        cut where no box is. The first is empty when not even the first row fits `first_room`; a box taller than
        a whole page (which labels' limits rule out) is cut."""
        edges = {0.0, self.height} | {y for box in self.boxes.values() for y in (box.top, box.bottom)}
        cuts = [y for y in edges if not any(box.top < y < box.bottom for box in self.boxes.values())]
        bands: list[tuple[float, float]] = []
        top, room = 0.0, first_room
        while self.height - top > room:
            cut = max((c for c in cuts if top < c <= top + room), default=None)
            if cut is None:
                cut = top if room < page_room else top + room
            bands.append((top, cut))
            top, room = cut, page_room
        bands.append((top, self.height))
        return bands

    def draw(
        self,
        pdf: FPDF,
        left: float,
        page_top: float,
        band: tuple[float, float],
        link: Callable[[GraphNode], str | None],
    ) -> None:
        """The band's edges (clipped to it) and the boxes whose top is in it, the band's top at `page_top`."""
        top, bottom = band
        shift = page_top - top
        width = max((box.left + box.width for box in self.boxes.values()), default=0.0)
        with pdf.rect_clip(left - 2, page_top, width + 4, bottom - top):  # 2 pt: an edge's line width
            for source_id, target_id in self._edges:
                source, target = self.boxes[source_id], self.boxes[target_id]
                start = (left + source.left + source.width, shift + source.top + source.height / 2)
                end = (left + target.left, shift + target.top + target.height / 2)
                if min(start[1], end[1]) > page_top + bottom - top or max(start[1], end[1]) < page_top:
                    continue
                middle = (start[0] + end[0]) / 2
                pdf.set_draw_color(*_BORDER[target.node.level])
                pdf.set_line_width(1.2 if target.node.level == 1 else 0.8)
                pdf.bezier([start, (middle, start[1]), (middle, end[1]), end])
        breaks_pages, margin = pdf.auto_page_break, pdf.b_margin
        pdf.set_auto_page_break(False)  # the bands are the page breaks; a label's cell must not add one
        for box in self.boxes.values():
            if top <= box.top < bottom:
                self._draw_box(pdf, box, left + box.left, shift + box.top, link(box.node))
        pdf.set_auto_page_break(breaks_pages, margin)

    def _draw_box(self, pdf: FPDF, box: Box, x: float, y: float, link: str | None) -> None:
        level = box.node.level
        pdf.set_fill_color(*_FILL[level])
        pdf.set_draw_color(*_BORDER[level])
        pdf.set_line_width(0.8)
        pdf.rect(x, y, box.width, box.height, style="DF", round_corners=True, corner_radius=3)
        self._font(pdf, level)
        pdf.set_text_color(*_TEXT[level])
        line_h = LABEL_SIZES[level] * LINE_HEIGHT
        for i, line in enumerate(box.lines):
            pdf.set_xy(x, y + PAD_Y + i * line_h)
            pdf.cell(box.width, line_h, line, align="C")
        if link is not None:
            pdf.link(x, y, box.width, box.height, link)
