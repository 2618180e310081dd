"""How good the offline `local` provider's outputs are on the evaluation set (tests/data/evaluation).

    .venv/bin/python bench/local_quality_bench.py [--src path/to/another/checkout/src]

Per transcript: topic precision and recall against the hand-written reference topics, the share of the content
sections (intro and outro filler excluded) that the summary quotes from, and the time of one request for summary,
topics, mind map and social post. `--src` measures another version of the code (e.g. an older commit exported with
`git archive <commit> src | tar -x -C /tmp/before`) with the same yardstick. Prints the figures; asserts nothing.

A produced topic matches a reference when their lemma sets overlap by half or more (Jaccard >= 0.5): "Ocean" matches
"ocean currents", "Currents Move Enormous Amounts" does not. A reference may list alternatives ("AMOC|Atlantic
overturning circulation"). Every five words the summary quotes count for the section they are found in."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "evaluation"
KINDS = ("summary", "topics", "mind_map", "social_post")
_WORD = re.compile(r"\w+(?:[-']\w+)*")
_GLUE = frozenset(re.findall(r"\w+", "a an the of and or to in on at for w na do z ze i o od dla"))


def lemmas(text: str, language: str) -> frozenset[str]:
    import simplemma

    return frozenset(
        simplemma.lemmatize(w, lang=language).lower() for w in _WORD.findall(text.lower()) if w not in _GLUE
    )


def topic_scores(produced: list[str], references: list[str], language: str) -> tuple[float, float]:
    wanted = [[lemmas(alt, language) for alt in ref.split("|")] for ref in references]
    got = [lemmas(title, language) for title in produced]

    def match(a: frozenset[str], b: frozenset[str]) -> bool:
        return bool(a and b) and len(a & b) / len(a | b) >= 0.5

    precise = sum(any(match(g, alt) for ref in wanted for alt in ref) for g in got)
    recalled = sum(any(match(g, alt) for g in got for alt in ref) for ref in wanted)
    return precise / max(1, len(got)), recalled / max(1, len(wanted))


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def section_coverage(summary: str, transcript_text: str, sections: list[dict[str, Any]]) -> tuple[float, list[int]]:
    """Share of content sections that the summary quotes from, and which sections it quotes: every run of five
    words of the summary found in the transcript marks the section it is in (quotes of unpunctuated speech run on
    across sections without a sentence end to split them at)."""
    words = words_of(transcript_text)
    joined = " " + " ".join(words) + " "
    starts = [joined.index(" " + " ".join(words_of(s["starts"])) + " ") for s in sections]
    used: set[int] = set()
    for piece in re.split(r"[.!?…]+\s+|\s+…\s+|\n+", summary):
        quoted = words_of(piece)
        for offset in range(0, max(1, len(quoted) - 4), 5):
            at = joined.find(" " + " ".join(quoted[offset : offset + 5]) + " ")
            if len(quoted) >= 3 and at >= 0:
                used.add(max((i for i, start in enumerate(starts) if start <= at), default=0))
    content = [i for i, s in enumerate(sections) if s["content"]]
    return sum(i in used for i in content) / len(content), sorted(used)


def count_defects(checked: dict[str, Any], source: str, reference: dict[str, Any]) -> int:
    """What a reader notices at once: caption markers, channel filler, full stops the speaker never said (in
    unpunctuated speech), the same mind-map label twice, two topics of the same lemmas."""
    labels = [node.label.casefold() for node in checked["mind_map"].value.nodes()]
    texts = [checked["summary"].value, checked["social_post"].value, checked["topics"].value, *labels]
    defects = sum(len(re.findall(r"♪|\[music\]|\[muzyka\]|\(applause\)", t, re.IGNORECASE)) for t in texts)
    defects += sum(phrase in t.lower() for t in texts for phrase in reference.get("filler", []))
    if not re.search(r"[.!?]", source):
        defects += sum(len(re.findall(r"[.!?]", t)) for t in texts[:2])
    defects += len(labels) - len(set(labels))
    groups = [lemmas(t.title, reference["language"]) for t in checked["topics"].topics]
    defects += sum(a == b for i, a in enumerate(groups) for b in groups[i + 1 :])
    return defects


async def main(src: Path) -> None:
    sys.path.insert(0, str(src))
    from application.processing.ports import GenerationRequest
    from application.processing.prompts import answer_envelope
    from domain.outputs import AnswerContext, check_answer
    from domain.transcripts import parse_transcript
    from infrastructure.ai.local import LocalProvider

    provider = LocalProvider()
    rows = []
    for reference_path in sorted(DATA.glob("*.json")):
        reference = json.loads(reference_path.read_text(encoding="utf-8"))
        source = next(p for p in DATA.glob(reference_path.stem + ".*") if p.suffix != ".json")
        transcript = parse_transcript(source.read_text(encoding="utf-8"))
        language = reference["language"]
        context = AnswerContext(transcript.words, len(transcript.text), transcript.duration)
        times = []
        for run in range(3):
            # A transcript the provider has not analysed yet (its analysis is cached per transcript).
            fresh = dataclasses.replace(transcript, description=f"run {run}")
            started = time.perf_counter()
            request = GenerationRequest(KINDS, "", "", "", answer_envelope(KINDS), fresh, language)
            answer = json.loads((await provider.generate(request, "local", None)).text)
            times.append(time.perf_counter() - started)
        checked = {k: check_answer(k, json.dumps(answer[k]), context) for k in KINDS}
        titles = [t.title for t in checked["topics"].topics]
        defects = count_defects(checked, transcript.text, reference)
        precision, recall = topic_scores(titles, reference["topics"], language)
        coverage, used = section_coverage(checked["summary"].value, transcript.text, reference["sections"])
        custom_hits = 0
        for case in reference.get("custom", []):
            request = GenerationRequest(
                ("custom",), "", "", "", answer_envelope(("custom",)), transcript, language, case["prompt"]
            )
            made = json.loads((await provider.generate(request, "local", None)).text)["custom"]
            output = check_answer("custom", json.dumps(made), context).value
            passages = [p for p in output.split("\n\n") if p.strip()]
            if " ".join(words_of(passages[0])[:5]) not in " ".join(words_of(transcript.text)):
                passages = passages[1:]  # a notice, not a quote
            custom_hits += case["expect"].lower() in passages[0].lower()
        prompts = len(reference.get("custom", []))
        rows.append(
            (reference_path.stem, precision, recall, coverage, min(times) * 1000, custom_hits, prompts, defects)
        )
        print(f"\n== {reference_path.stem}: topics {titles}")
        print(f"   summary sections used {used}: {checked['summary'].value[:300]}…")

    print(f"\n{'transcript':28}{'topic P':>8}{'topic R':>8}{'sections':>9}{'ms/req':>8}{'custom':>8}{'defects':>8}")
    for name, precision, recall, coverage, ms, hits, prompts, defects in rows:
        custom = f"{hits}/{prompts}" if prompts else "-"
        print(f"{name:28}{precision:8.2f}{recall:8.2f}{coverage:9.2f}{ms:8.1f}{custom:>8}{defects:8d}")
    mean = [statistics.mean(r[i] for r in rows) for i in (1, 2, 3, 4)]
    hits, prompts, defects = sum(r[5] for r in rows), sum(r[6] for r in rows), sum(r[7] for r in rows)
    custom = f"{hits}/{prompts}"
    print(
        f"{'mean (defects: total)':28}{mean[0]:8.2f}{mean[1]:8.2f}{mean[2]:9.2f}{mean[3]:8.1f}{custom:>8}{defects:8d}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    asyncio.run(main(parser.parse_args().src.resolve()))
