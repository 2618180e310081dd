"""How long the offline `local` provider takes on a ~2-hour transcript.

    .venv/bin/python bench/local_provider_bench.py [--runs 10]

Builds a WebVTT transcript of about 20k words and 2+ hours from the shipped test transcripts (the timed ones one
after another, timestamps shifted, until 20k words), then per run: parses it (the baseline) and answers summary,
topics, mind_map and social_post in one call, as one learning + social request would. Each run gets its own
transcript (a distinct title), so no analysis is reused from an earlier run. Prints the figures; asserts nothing."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from application.processing.ports import GenerationRequest  # noqa: E402
from application.processing.prompts import answer_envelope  # noqa: E402
from domain.outputs import AnswerContext, check_answer  # noqa: E402
from domain.transcripts import Segment, Transcript, parse_transcript  # noqa: E402
from infrastructure.ai.local import LocalProvider  # noqa: E402

DATA = ROOT / "tests" / "data" / "transcripts"
KINDS = ("summary", "topics", "mind_map", "social_post")
TARGET_WORDS = 20_000


def long_vtt() -> str:
    sources = [
        parse_transcript(p.read_text(encoding="utf-8")) for p in sorted(DATA.glob("*.vtt")) + sorted(DATA.glob("*.srt"))
    ]
    cues: list[Segment] = []
    offset, words = 0.0, 0
    while words < TARGET_WORDS:
        for source in sources:
            cues += [Segment(s.start + offset, s.duration, s.text) for s in source.segments]
            offset += source.duration + 2.0
            words += source.words
    return "WEBVTT\n\n" + "\n\n".join(f"{_stamp(c.start)} --> {_stamp(c.start + c.duration)}\n{c.text}" for c in cues)


def _stamp(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


async def answer_all(provider: LocalProvider, transcript: Transcript) -> list[str]:
    request = GenerationRequest(KINDS, "", "", "", answer_envelope(KINDS), transcript, "en")
    answer = json.loads((await provider.generate(request, "local", None)).text)
    return [json.dumps(answer[kind]) for kind in KINDS]


async def main(runs: int) -> None:
    raw = long_vtt()
    provider = LocalProvider()
    parse_times, request_times = [], []
    for run in range(runs + 1):  # run 0 warms up imports and caches of the interpreter
        started = time.perf_counter()
        transcript = parse_transcript(raw)
        parsed = time.perf_counter()
        transcript = dataclasses.replace(transcript, title=f"Bench run {run}")
        answers = await answer_all(provider, transcript)
        finished = time.perf_counter()
        if run:
            parse_times.append(parsed - started)
            request_times.append(finished - parsed)
    context = AnswerContext(transcript.words, len(transcript.text), transcript.duration)
    for kind, text in zip(KINDS, answers, strict=True):
        check_answer(kind, text, context)  # raises if an answer breaks the contract

    print(
        f"transcript: {transcript.words} words, {len(transcript.segments)} captions, "
        f"{transcript.duration / 3600:.2f} h; every answer meets the contract"
    )
    print(f"runs: {runs}; one request = {', '.join(KINDS)} in one call")
    baseline = statistics.median(parse_times)
    median, worst = statistics.median(request_times), max(request_times)
    print(f"{'':26}{'median ms':>10}{'worst ms':>10}")
    print(f"{'baseline: parse VTT':26}{baseline * 1000:10.1f}{max(parse_times) * 1000:10.1f}")
    print(f"{'request: 4 local answers':26}{median * 1000:10.1f}{worst * 1000:10.1f}")
    print(f"request / baseline (median): {median / baseline:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
