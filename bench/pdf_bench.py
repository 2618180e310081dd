"""How long one history entry's PDF takes to render.

    .venv/bin/python bench/pdf_bench.py [--runs 20]

A typical entry: a Polish title, a ~250-word summary, six timestamped key topics, a 25-node mind map (root, four
branches, five leaves each) as processing stores it, a social post and a custom output. The baseline is the same
entry with only its title: what every document costs (loading both fonts, subsetting them, writing the file).
Each run renders both in this thread. Prints ms per render and pages per second; asserts nothing."""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pypdf import PdfReader  # noqa: E402

from application.presenters.mind_map import react_flow_graph  # noqa: E402
from domain.history import HistoryEntry  # noqa: E402
from domain.mind_map import MindMapNodeSpec, build_mind_map  # noqa: E402
from domain.usage import Spend  # noqa: E402
from infrastructure.documents.pdf import render_pdf  # noqa: E402

SENTENCES = (
    "Prowadząca wyjaśnia, dlaczego regularny sen wpływa na koncentrację i nastrój.",
    "Omawia badania nad rytmem dobowym oraz skutki światła ekranów przed snem.",
    "Podaje proste nawyki: stałą porę zasypiania, chłodną sypialnię i mniej kofeiny po południu.",
    "Na koniec odpowiada na pytania widzów o drzemki, bezsenność i sen dzieci.",
)


def typical_entry() -> HistoryEntry:
    specs = [MindMapNodeSpec("root", "Zdrowy sen", None, None)]
    for b in range(4):
        specs.append(MindMapNodeSpec(f"b{b}", f"Wątek {b + 1}: rytm dobowy", "root", 120.0 * b))
        specs += [
            MindMapNodeSpec(f"l{b}.{i}", f"Wskazówka {b + 1}.{i + 1} — światło i kofeina", f"b{b}", None)
            for i in range(5)
        ]
    return HistoryEntry(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        transcript_hash="h" * 64,
        purpose="learning",
        outputs="summary topics mind_map social_post custom",
        summary=" ".join(SENTENCES * 5),
        topics=None,
        key_topics=[{"title": f"Temat {i + 1}: sen i zdrowie", "timestamp": 95.0 * i} for i in range(6)],
        mind_map=react_flow_graph(build_mind_map(specs)),
        social_post="Jak się wysypiać? Pięć nawyków, które działają od pierwszej nocy. #sen #zdrowie",
        custom_prompt="Wypisz pytania widzów",
        custom_output="1. Czy drzemki szkodzą?\n2. Ile snu potrzebuje nastolatek?\n3. Co z bezsennością?",
        video_id="dQw4w9WgXcQ",
        video_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        title="Jak się wysypiać — rozmowa z lekarką snu",
        language="pl",
        provider="anthropic",
        model="claude-sonnet-4",
        spend=Spend(5000, 1200, 0.03),
        attribution=None,
        duration_ms=9000,
        cached=False,
        created_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    )


def measure(name: str, entry: HistoryEntry, runs: int) -> None:
    document = render_pdf(entry)  # warm-up: imports, first font parse
    pages = len(PdfReader(io.BytesIO(document)).pages)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render_pdf(entry)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"{name:<9} {pages} page(s), {len(document) / 1024:3.0f} KiB: ms per render median {median * 1000:.0f} "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), {pages / median:.1f} pages/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    typical = typical_entry()
    bare = dataclasses.replace(
        typical, summary=None, key_topics=None, mind_map=None, social_post=None, custom_prompt=None, custom_output=None
    )
    print(f"{runs} runs each")
    measure("baseline", bare, runs)
    measure("typical", typical, runs)


if __name__ == "__main__":
    main()
