"""A history entry's PDF, read back with a PDF reader (pypdf): the text a reader extracts, page size, page numbers,
links, and the mind map diagram's labels (present once each, readable size, on the page)."""

from __future__ import annotations

import fnmatch
import functools
import io
import itertools
import re
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from pypdf.generic import Destination

from application.presenters.mind_map import react_flow_graph
from domain.history import HistoryEntry
from domain.mind_map import MindMapNodeSpec, build_mind_map
from domain.usage import Spend
from infrastructure.documents import PdfHistoryRenderer
from infrastructure.documents.diagram import MindMapDiagram, read_graph
from infrastructure.documents.pdf import FAMILY, FONTS, render_pdf
from tests.unit.domain.test_mind_map import trees

A4 = (595.28, 841.89)  # pt
MIN_READABLE_PT = 6
SUMMARY = (
    "Dietetyczka wyjaśnia, dlaczego śniadanie bogate w białko pomaga utrzymać energię przez cały dzień. Omawia "
    "źródła błonnika, rolę tłuszczów nienasyconych i pułapki żywności wysoko przetworzonej. Na koniec pokazuje, "
    "jak zaplanować zakupy na tydzień bez marnowania jedzenia: zażółć gęślą jaźń."
)
MIND_MAP = [  # (id, label, parent, timestamp)
    ("root", "Zdrowe odżywianie", None, None),
    ("b1", "Śniadanie bogate w białko", "root", 35.0),
    ("l1", "Jajka i twaróg", "b1", 62.0),
    ("l2", "Owsianka z orzechami", "b1", 95.0),
    ("b2", "Błonnik i warzywa", "root", 240.0),
    ("l3", "Pięć porcji dziennie", "b2", None),
    ("s1", "Kiszonki i żółta papryka", "l3", None),
    ("b3", "Planowanie zakupów", "root", 610.0),
    ("l4", "Lista na cały tydzień", "b3", None),
    ("l5", "Mniej marnowania jedzenia", "b3", 700.0),
]


def graph(nodes: list[tuple[str, str, str | None, float | None]]) -> dict[str, Any]:
    """The graph processing stores on a history row, from a tree built with the domain's own rules."""
    return react_flow_graph(build_mind_map([MindMapNodeSpec(*node) for node in nodes]))


def entry(**fields: Any) -> HistoryEntry:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "transcript_hash": "h" * 64,
        "purpose": "general",
        "outputs": "summary topics mind_map social_post custom",
        "summary": SUMMARY,
        "topics": "Key topics:\n- Białko na śniadanie\n- Błonnik\n- Zakupy",
        "key_topics": [
            {"title": "Białko na śniadanie", "timestamp": 35.0},
            {"title": "Błonnik i warzywa", "timestamp": 240.0},
            {"title": "Zakupy bez marnowania", "timestamp": 3725.0},
        ],
        "mind_map": graph(MIND_MAP),
        "social_post": "Nowy odcinek: jak jeść zdrowo bez liczenia kalorii 🥗 #zdrowie",
        "custom_prompt": "Wypisz trzy przepisy",
        "custom_output": "1. Owsianka z jabłkiem\n2. Sałatka z ciecierzycą\n3. Zupa z soczewicy",
        "video_id": "dQw4w9WgXcQ",
        "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "title": "Jak jeść zdrowo — poradnik dietetyczki",
        "language": "pl",
        "provider": "anthropic",
        "model": "claude-sonnet-4",
        "spend": Spend(1200, 800, 0.0123),
        "attribution": None,
        "duration_ms": 5400,
        "cached": False,
        "created_at": datetime(2026, 11, 1, 12, 30, tzinfo=UTC),
    }
    return HistoryEntry(**{**values, **fields})


def read(document: bytes) -> PdfReader:
    assert document.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(document))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    """Without whitespace: a label wrapped over two lines of its box still reads as the label."""
    return re.sub(r"\s+", "", text)


def drawn_text(reader: PdfReader) -> list[tuple[int, str, float, float]]:
    """(page index, text, font size in pt, baseline height from the page's bottom) of everything written."""
    runs: list[tuple[int, str, float, float]] = []
    for index, page in enumerate(reader.pages):

        def visit(text: str, cm: Any, tm: Any, font: Any, size: float, index: int = index) -> None:
            if text.strip():
                runs.append((index, text, size * tm[3] * cm[3], tm[5] * cm[3] + cm[5]))

        page.extract_text(visitor_text=visit)
    return runs


async def test_a_polish_entry_reads_back_whole_from_the_pdf() -> None:
    reader = read(await PdfHistoryRenderer().render(entry()))

    text = text_of(reader)
    assert "Jak jeść zdrowo — poradnik dietetyczki" in text
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in text
    assert "2026-11-01 12:30 UTC" in text
    assert "anthropic / claude-sonnet-4" in text
    assert squeezed(SUMMARY) in squeezed(text)
    for word in ("śniadanie", "źródła", "błonnika", "tłuszczów", "zażółć", "gęślą", "jaźń"):
        assert word in text
    assert "0:35" in text
    assert "1:02:05" in text  # hours once past the hour
    assert "Zakupy bez marnowania" in text
    for _, label, _, _ in MIND_MAP:
        assert squeezed(label) in squeezed(text), label
    assert "jak jeść zdrowo bez liczenia kalorii" in text
    assert "Wypisz trzy przepisy" in text
    assert "Sałatka z ciecierzycą" in text
    assert [item.title for item in reader.outline if isinstance(item, Destination)] == [
        "Summary",
        "Key topics",
        "Mind map",
        "Social post",
        "Custom output",
    ]
    assert reader.metadata is not None
    assert reader.metadata.title == "Jak jeść zdrowo — poradnik dietetyczki"
    assert reader.metadata.creator == "Scribe"


def test_every_page_is_a4_and_numbered_page_x_of_y() -> None:
    long_summary = " ".join([SUMMARY] * 40)  # several pages

    reader = read(render_pdf(entry(summary=long_summary)))

    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, start=1):
        assert abs(float(page.mediabox.width) - A4[0]) < 1
        assert abs(float(page.mediabox.height) - A4[1]) < 1
        assert f"Page {number} of {pages}" in page.extract_text()


def test_the_video_and_timestamped_topics_and_nodes_are_links() -> None:
    reader = read(render_pdf(entry()))

    uris = {annotation.get_object()["/A"]["/URI"] for page in reader.pages for annotation in page.get("/Annots") or ()}
    video = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert video in uris
    assert f"{video}&t=35s" in uris  # the first topic, and the branch of the same moment
    assert f"{video}&t=3725s" in uris  # a topic only
    assert f"{video}&t=62s" in uris  # a leaf of the map only


def test_an_entry_without_map_post_or_custom_output_is_the_sections_it_has() -> None:
    bare = entry(
        title=None,
        key_topics=None,
        mind_map=None,
        social_post=None,
        custom_prompt=None,
        custom_output=None,
        purpose=None,
    )

    text = text_of(read(render_pdf(bare)))

    assert "Untitled video" in text
    assert "Key topics:" in text  # the topics text, as stored, when there are no timestamped topics
    assert squeezed(SUMMARY) in squeezed(text)
    for heading in ("Mind map", "Social post", "Custom output", "purpose:"):
        assert heading not in text


def test_characters_the_font_lacks_do_not_stop_the_document() -> None:
    post = "🚀 Nowy film! 中文 tab\there \x00\x07 koniec"

    text = text_of(read(render_pdf(entry(social_post=post))))

    assert "Nowy film!" in text
    assert "tab here" in text
    assert "koniec" in text


def test_the_same_entry_renders_the_same_bytes() -> None:
    one = entry()
    assert render_pdf(one) == render_pdf(one)


def test_the_shipped_fonts_and_their_licence_are_package_data() -> None:
    """A non-editable install carries only what package-data names: the renderer opens these files."""
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["infrastructure.documents"]
    shipped = sorted(path.name for path in FONTS.iterdir())
    assert shipped == ["DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed.ttf", "LICENSE"]
    for name in shipped:
        assert any(fnmatch.fnmatch(f"fonts/{name}", pattern) for pattern in patterns), name


def big_map(branches: int, leaves: int, subleaves: int = 0) -> list[tuple[str, str, str | None, float | None]]:
    nodes: list[tuple[str, str, str | None, float | None]] = [("r", "Historia Polski w pigułce", None, None)]
    for b in range(branches):
        nodes.append((f"b{b}", f"Epoka {b + 1}: przełomy i władcy", "r", 60.0 * b))
        for leaf in range(leaves):
            nodes.append((f"l{b}.{leaf}", f"Wydarzenie {b + 1}.{leaf + 1} — źródła i skutki", f"b{b}", None))
            nodes += [
                (f"s{b}.{leaf}.{s}", f"Szczegół {b + 1}.{leaf + 1}.{s + 1} żółtej księgi", f"l{b}.{leaf}", None)
                for s in range(subleaves)
            ]
    return nodes


def test_a_thirty_node_map_keeps_every_label_readable_and_on_its_page() -> None:
    nodes = big_map(branches=5, leaves=5)[:30]

    reader = read(render_pdf(entry(mind_map=graph(nodes), summary="Krótko.", key_topics=None)))

    runs = drawn_text(reader)
    text = squeezed("".join(text for _, text, _, _ in runs))
    labels = [node["data"]["label"] for node in graph(nodes)["nodes"]]
    assert len(labels) == 30
    for label in labels:
        assert text.count(squeezed(label)) == 1, label  # drawn once, not lost or repeated at a page's cut
    assert min(size for _, _, size, _ in runs) >= MIN_READABLE_PT
    footer_top, page_top = 50, A4[1] - 50
    body = [height for _, text, _, height in runs if not text.startswith("Page ")]
    assert all(footer_top <= height <= page_top for height in body)


def test_a_map_of_sixty_nodes_continues_over_pages_without_cutting_a_box() -> None:
    nodes = big_map(branches=4, leaves=4, subleaves=2)[:60]
    stored = graph(nodes)

    reader = read(render_pdf(entry(mind_map=stored, summary="Krótko.", key_topics=None)))

    runs = drawn_text(reader)
    text = squeezed("".join(text for _, text, _, _ in runs))
    for node in stored["nodes"]:
        assert text.count(squeezed(node["data"]["label"])) == 1
    pages_with_labels = {page for page, text, _, _ in runs if "Szczegół" in text}
    assert len(pages_with_labels) >= 2
    assert min(size for _, _, size, _ in runs) >= MIN_READABLE_PT


def test_a_map_that_fits_on_a_page_is_never_split_between_two() -> None:
    labels = {squeezed(label) for _, label, _, _ in MIND_MAP}
    for paragraphs in range(1, 17):  # the summary ends anywhere down the first page or the second
        reader = read(render_pdf(entry(summary="\n".join([SUMMARY] * paragraphs), key_topics=None)))

        pages = {page for page, text, _, _ in drawn_text(reader) if squeezed(text) in labels}
        assert len(pages) == 1, paragraphs


def test_a_graph_in_an_unexpected_shape_leaves_the_map_out() -> None:
    odd = {"nodes": [{"id": 1, "position": "left"}, {"data": {"label": ""}}], "edges": "none"}

    text = text_of(read(render_pdf(entry(mind_map=odd))))

    assert "Mind map" not in text
    assert squeezed(SUMMARY) in squeezed(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
graphs = st.one_of(
    st.none(),
    st.lists(st.tuples(st.text(min_size=1, max_size=60).filter(str.strip)), min_size=1, max_size=8).map(
        lambda labels: graph(
            [("n0", labels[0][0], None, None)]
            + [(f"n{i}", label, "n0", None) for i, (label,) in enumerate(labels[1:], 1)]
        )
    ),
    st.dictionaries(st.sampled_from(["nodes", "edges"]), json_values),
    st.lists(  # a graph's shape with positions no presenter would give: far apart, on top of each other
        st.fixed_dictionaries(
            {
                "id": st.text(max_size=2),
                "position": st.fixed_dictionaries({"x": st.floats(-1e7, 1e7), "y": st.floats(-1e7, 1e7)}),
                "data": st.fixed_dictionaries({"label": st.text(min_size=1, max_size=80), "level": st.integers(-1, 5)}),
            }
        ),
        max_size=12,
    ).map(
        lambda nodes: {
            "nodes": nodes,
            "edges": [{"source": a["id"], "target": b["id"]} for a, b in itertools.pairwise(nodes)],
        }
    ),
)
texts = st.none() | st.text(max_size=400)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=texts,
    summary=texts,
    social_post=texts,
    custom_prompt=texts,
    custom_output=texts,
    video_url=texts,
    mind_map=graphs,
    key_topics=st.none() | st.lists(st.dictionaries(st.sampled_from(["title", "timestamp"]), json_values)),
)
def test_whatever_the_fields_hold_the_renderer_makes_a_readable_pdf(**fields: Any) -> None:
    reader = read(render_pdf(entry(**fields)))

    assert len(reader.pages) >= 1
    assert "Page 1 of" in reader.pages[0].extract_text()


@functools.cache
def measuring_pdf() -> FPDF:
    """A page with the shipped fonts: what the diagram's layout measures labels with (loaded once: it is slow)."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSansCondensed.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSansCondensed-Bold.ttf")
    pdf.add_page()
    return pdf


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=trees())
def test_the_diagram_of_any_tree_fits_the_width_with_no_box_over_another(specs: list[MindMapNodeSpec]) -> None:
    pdf = measuring_pdf()
    nodes, edges = read_graph(react_flow_graph(build_mind_map(specs)))

    boxes = list(MindMapDiagram(pdf, nodes, edges, pdf.epw, FAMILY, str).boxes.values())

    assert len(boxes) == len(specs)
    assert all(box.left >= 0 and box.left + box.width <= pdf.epw + 0.01 for box in boxes)
    for one, other in itertools.combinations(boxes, 2):
        apart = (
            one.left + one.width <= other.left
            or other.left + other.width <= one.left
            or one.bottom <= other.top
            or other.bottom <= one.top
        )
        assert apart, (one.node.label, other.node.label)
    by_id = {box.node.id: box for box in boxes}
    assert all(by_id[source].left + by_id[source].width < by_id[target].left for source, target in edges)
