"""Input tokens and server CPU per `learning` job (summary + topics + mind map), before -> after, in one run.

    .venv/bin/python bench/job_cost.py                    # before = the `main` branch, after = this checkout
    .venv/bin/python bench/job_cost.py --trees main,HEAD~1,. --jobs 200

Each tree's code (a git ref, `git archive`d into a temporary directory, or `.` for this checkout as it is) serves
as `scribe serve --workers=1` (SQLite, a fresh database) against the fake LLM of this checkout run as its own
process, answering every call after 50 ms as Anthropic does (the fake speaks both the one-call-per-output and the
one-call-per-request protocol). Per tree:

- tokens: one `learning` job on a ~5,000-word transcript; the input tokens the upstream counted (the answer's
  `tokens.input`: the fake counts a token per 4 characters of system and message text), against the transcript's
  own tokens by the same count;
- CPU: `--jobs` uncached `learning` jobs on a ~600-word lecture (each with its own first sentence, so no cache can
  serve one), one at a time, after 10 of warm-up; the server process's CPU time from /proc, per job.

Prints figures and each tree's ratios to the first; asserts nothing. See bench/README.md."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from http_bench import SCRIBE, clean_env, free_port, serve
from process_bench import TRANSCRIPT, api_token, fake_upstream, processes_cpu, server_session_id

ROOT = Path(__file__).resolve().parent.parent
LONG_WORDS = 5000
TOKEN_TARGET = 1.15  # input tokens per job at most 1.15x the transcript's own, plus a fixed prompt


@dataclass(frozen=True, slots=True)
class Figures:
    tree: str
    transcript_tokens: int
    input_tokens: int
    cpu_ms_per_job: float
    wall_ms_per_job: float


def long_lecture() -> str:
    words = TRANSCRIPT.split()
    return " ".join(words[i % len(words)] for i in range(LONG_WORDS))


@contextmanager
def exported(ref: str) -> Iterator[Path]:
    """`ref`'s tree in a temporary directory (no worktree, nothing left behind); `.` is this checkout itself."""
    if ref == ".":
        yield ROOT
        return
    with tempfile.TemporaryDirectory(prefix="scribe-job-cost-") as name:
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
        tar = Path(name) / "tree.tar"
        tar.write_bytes(archive)
        with tarfile.open(tar) as opened:
            opened.extractall(name, filter="data")
        yield Path(name)


def measure(label: str, ref: str, tree: Path, fake_url: str, jobs: int, tmp: Path) -> Figures:
    env = clean_env(
        PYTHONPATH=str(tree / "src"),
        SCRIBE_ENV="development",
        SCRIBE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / f'{label}.db'}",
        SCRIBE_ANTHROPIC_API_KEY="bench-key",
        SCRIBE_ANTHROPIC_BASE_URL=fake_url,
        SCRIBE_AI_CHAIN="anthropic",
        SCRIBE_REGISTRATIONS_PER_IP="1000000",
        SCRIBE_ARGON2_MEMORY_KIB="256",
        SCRIBE_ARGON2_TIME_COST="1",
        SCRIBE_LOG_LEVEL="warning",
        SCRIBE_AI_TIMEOUT_SECONDS="30",
    )
    subprocess.run([SCRIBE, "db", "upgrade"], env=env, cwd=tree, check=True, timeout=120, stdout=subprocess.DEVNULL)
    port = free_port()
    cmd = [SCRIBE, "serve", "--host=127.0.0.1", f"--port={port}", "--workers=1", "--no-migrate"]
    with serve(cmd, env, tmp / f"{label}.log", port, ready_path="/api/health"):
        base = f"http://127.0.0.1:{port}"
        token = api_token(base)
        with httpx.Client(base_url=base, timeout=120, headers={"authorization": f"Bearer {token}"}) as client:

            def job(transcript: str) -> dict[str, object]:
                body = {"transcript": transcript, "purpose": "learning", "language": "en"}
                response = client.post("/api/v1/process", json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"{label}: {response.status_code} {response.text[:2000]}")
                data: dict[str, object] = response.json()["data"]
                return data

            lecture = long_lecture()
            tokens = job(lecture)["tokens"]
            assert isinstance(tokens, dict)
            for n in range(10):
                job(f"Warm-up lecture {n}. {TRANSCRIPT}")
            session = server_session_id(port)
            cpu_before, started = processes_cpu(session), time.perf_counter()
            for n in range(jobs):
                job(f"Lecture {n} of the measured run. {TRANSCRIPT}")
            wall, cpu = time.perf_counter() - started, processes_cpu(session) - cpu_before
    return Figures(ref, len(lecture) // 4, int(tokens["input"]), cpu * 1000 / jobs, wall * 1000 / jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", default="main,.", help="git refs to measure, `.` for this checkout (main,.)")
    parser.add_argument("--jobs", type=int, default=100, help="measured jobs per tree (100)")
    parser.add_argument("--delay", type=float, default=0.05, help="the fake upstream's answer delay, s (0.05)")
    args = parser.parse_args()
    figures: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="scribe-job-cost-") as tmp_name:
        tmp = Path(tmp_name)
        with fake_upstream(args.delay, tmp / "fake.log") as (fake_url, _):
            for n, ref in enumerate(args.trees.split(",")):
                with exported(ref) as tree:
                    figures.append(measure(f"{n}-{ref}", ref, tree, fake_url, args.jobs, tmp))
    first = figures[0]
    print(f"learning job, ~{LONG_WORDS} words ({first.transcript_tokens} tokens by the fake's count):")
    for f in figures:
        ratio = f.input_tokens / f.transcript_tokens
        print(f"  {f.tree:12} input tokens {f.input_tokens:6} = {ratio:.2f}x the transcript")
    print(f"server CPU per uncached learning job, upstream answering after {args.delay * 1000:.0f} ms, one at a time:")
    for f in figures:
        print(f"  {f.tree:12} {f.cpu_ms_per_job:5.2f} ms CPU  {f.wall_ms_per_job:6.1f} ms wall per job")
    for f in figures[1:]:
        print(
            f"{f.tree} / {first.tree}: input tokens {f.input_tokens / first.input_tokens:.2f}x, "
            f"CPU {f.cpu_ms_per_job / first.cpu_ms_per_job:.2f}x, wall {f.wall_ms_per_job / first.wall_ms_per_job:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
