"""`POST /api/v1/process` (learning: summary + topics + mind map) on one server process, against a fake LLM upstream
that answers after 50 ms, with the upstream alone measured in the same run as the baseline.

    .venv/bin/python bench/process_bench.py                       # SQLite, about 2.5 minutes
    .venv/bin/python bench/process_bench.py --postgres --redis    # PostgreSQL 127.0.0.1:5432 + Redis 127.0.0.1:6379
    .venv/bin/python bench/process_bench.py --profile             # + a profiled 200-concurrency phase

Per concurrency level (1, 10 and 200 in-flight requests, closed loop: each worker sends its next request when the
previous one answers): requests/s and p50/p90/p99 latency of the server, then the upstream alone at the same
concurrency and rate (each "request" = its 3 upstream calls at once, via the anthropic SDK as our adapter makes
them, and via a raw HTTP/1.1 client), and the overhead = server - upstream. Target: p50 overhead < 10 ms.
Prints figures; asserts nothing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from http_bench import REDIS_URL, SCRIBE, clean_env, drop_redis_prefix, free_port, percentile, pg_admin, serve

ROOT = Path(__file__).resolve().parent.parent
EMAIL, PASSWORD = "process-bench@example.com", "violet kettle umbrella 42"
OUTPUTS = ("summary", "topics", "mind_map")
TARGET_P50_OVERHEAD_MS = 10.0
MODEL = "claude-sonnet-4-6"  # SCRIBE_ANTHROPIC_MODELS' first entry: what the server asks for
CLK_TCK = os.sysconf("SC_CLK_TCK")

# About 600 words: a lecture, as a user would paste it.
TRANSCRIPT = """\
Good morning, everyone. Today we are going to talk about how bread rises, and why a loaf that looks perfect on \
the outside can still be dense and gummy on the inside. Bread is one of the oldest processed foods we know, and \
yet most home bakers treat the rise as a kind of magic. It is not magic. It is biology and a little bit of physics, \
and once you understand both, you can fix almost any loaf.

Let us start with the flour. Wheat flour contains two groups of proteins, glutenins and gliadins. When you add \
water and start mixing, these proteins unfold and link together into a network we call gluten. Glutenins give the \
dough strength and elasticity, the ability to spring back when you stretch it. Gliadins make it extensible, so it \
can stretch without tearing. A good dough needs both. Too much strength and the loaf cannot expand; too much \
extensibility and it spreads out flat like a pancake.

The second ingredient is yeast. Baker's yeast is a single-celled fungus, and what it wants is sugar. Flour contains \
very little free sugar, but it does contain enzymes called amylases, which break starch down into smaller sugars \
once the flour is wet. The yeast eats those sugars and produces two things: ethanol and carbon dioxide. The carbon \
dioxide is what we care about. It dissolves in the water of the dough first, and when the water is saturated, the gas \
moves into tiny air bubbles that were trapped during mixing. Yeast does not create new bubbles. It only inflates the \
ones you made when you kneaded. That is why mixing matters so much more than people think.

Now, temperature. Yeast activity roughly doubles for every ten degrees between about fifteen and thirty-five degrees \
Celsius. A dough at twenty degrees may need three hours to double in size, while the same dough at twenty-eight \
degrees can be ready in ninety minutes. Faster is not always better, though. A slow, cool fermentation gives \
bacteria and enzymes more time to produce flavour compounds, organic acids and aromatic molecules. This is the idea \
behind leaving dough in the fridge overnight. You trade time for taste.

Sourdough adds another layer. A sourdough starter is a community of wild yeasts and lactic acid bacteria. The \
bacteria produce lactic and acetic acid, which lower the pH of the dough. Acidity tightens the gluten network a \
little, slows down the enzymes that would otherwise break the starch too far, and of course gives the bread its \
tangy flavour. A young starter tastes mild and milky; an old, neglected one tastes sharp, almost like vinegar.

Then there is the oven. In the first ten minutes of baking, something called oven spring happens. The gas in the \
bubbles expands as it heats up, the remaining carbon dioxide comes out of solution, and the ethanol and water turn \
into vapour. The yeast itself works faster for a few minutes before the heat kills it at around sixty degrees. The \
loaf can grow by a third in this short window. Steam in the oven keeps the crust soft long enough for this expansion; \
without steam, the crust sets too early and the loaf tears open at the weakest point.

Finally, the crumb sets. Starch granules absorb water and gelatinise, proteins coagulate, and the foam of gluten and \
gas becomes a solid sponge. If you cut the loaf while it is still hot, the starch has not finished setting, and the \
inside feels wet. So the last piece of advice today is the hardest one: wait at least an hour before slicing. Next \
week we will look at enriched doughs, where butter, eggs and sugar change every rule we discussed today."""


@dataclass(slots=True)
class Phase:
    """One measured phase: latencies of the requests that completed within the measurement window."""

    name: str
    concurrency: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    in_use_case_ms: list[float] = field(default_factory=list)  # the server's own `duration_ms`
    failures: Counter[str] = field(default_factory=Counter)
    cpu_s: dict[str, float] = field(default_factory=dict)  # process (group) -> CPU seconds during the window

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def p(self, pct: float, values: list[float] | None = None) -> float:
        return percentile(self.latencies_ms if values is None else values, pct)


# --------------------------------------------------------------------------------------------------------------
# A raw HTTP/1.1 keep-alive client, to keep the load generator's share of the two cores small (httpx costs several
# times more CPU per request; see "client" in the CPU table).


class Connection:
    _LENGTH = re.compile(rb"(?im)^content-length: *(\d+)")

    def __init__(self, port: int) -> None:
        self._port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, payload: bytes) -> tuple[int, bytes]:
        """Sends one whole request; its status and body. Reconnects once if the server closed the connection."""
        for retry in (False, True):
            if self._streams is None:
                self._streams = await asyncio.open_connection("127.0.0.1", self._port)
            reader, writer = self._streams
            try:
                writer.write(payload)
                head = await reader.readuntil(b"\r\n\r\n")
                length = self._LENGTH.search(head)
                if length is None:
                    raise RuntimeError(f"no content-length in {head[:300]!r}")
                body = await reader.readexactly(int(length.group(1)))
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if retry:
                    raise
                continue
            if b"connection: close" in head.lower():
                self.close()
            return int(head[9:12]), body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def http_request(method: str, path: str, port: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --------------------------------------------------------------------------------------------------------------
# The load loop, shared by the server and the upstream phases.

Sample = tuple[float, float | None]  # latency ms, the server's in-use-case ms if known
Send = Callable[[int], Awaitable[Sample]]  # worker index -> one request's sample (raises on failure)


async def closed_loop(
    phase: Phase,
    send: Send,
    warmup: float,
    duration: float,
    rate: float | None = None,
    on_window: tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]] | None = None,
    cpu_of: Callable[[], dict[str, float]] | None = None,
    connections: Sequence[Connection] = (),
) -> Phase:
    """`phase.concurrency` workers, each sending its next request once the previous one answered, for `warmup` +
    `duration` seconds; records the requests that complete in the last `duration` seconds. With `rate`, requests
    start no faster than that per second in all (the upstream baseline, paced as the server was). `connections`
    are closed at the end."""
    next_start = time.perf_counter()
    window: list[float] = []  # [start, end] of the measurement window once known

    async def pace() -> None:
        nonlocal next_start
        if rate is None:
            return
        now = time.perf_counter()
        slot = max(now, next_start)
        next_start = slot + 1 / rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def worker(index: int, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            await pace()
            try:
                latency, in_use_case = await send(index)
            except Exception as error:  # every failure is counted and shown
                if len(window) == 2 and window[0] <= time.perf_counter() <= window[1]:
                    phase.failures[str(error)[:80] or type(error).__name__] += 1
                await asyncio.sleep(0.01)
                continue
            done = time.perf_counter()
            if len(window) == 2 and window[0] <= done <= window[1]:
                phase.latencies_ms.append(latency)
                if in_use_case is not None:
                    phase.in_use_case_ms.append(in_use_case)

    started = time.perf_counter()
    stop_at = started + warmup + duration
    workers = [asyncio.create_task(worker(i, stop_at)) for i in range(phase.concurrency)]
    await asyncio.sleep(warmup)
    if on_window:
        await on_window[0]()
    cpu_before = cpu_of() if cpu_of else {}
    window += [time.perf_counter(), stop_at]
    await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
    phase.seconds = time.perf_counter() - window[0]
    if cpu_of:
        phase.cpu_s = {name: used - cpu_before.get(name, 0.0) for name, used in cpu_of().items()}
    if on_window:
        await on_window[1]()
    await asyncio.gather(*workers)
    for connection in connections:
        connection.close()
    return phase


# --------------------------------------------------------------------------------------------------------------
# CPU accounting from /proc: who used the two cores during a window.


def processes_cpu(sid: int | None = None, names: tuple[str, ...] = ()) -> float:
    """CPU seconds (user + system) of the live processes in session `sid` (a server and its workers), or named
    one of `names`."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            head, tail = stat.read_text().rsplit(")", 1)
            fields = tail.split()
            if int(fields[3]) == sid or head.split("(", 1)[1] in names:
                total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_cpu() -> float:
    """CPU seconds the whole machine spent busy (all processes, all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def cpu_reader(sessions: dict[str, int]) -> Callable[[], dict[str, float]]:
    def read() -> dict[str, float]:
        figures = {name: processes_cpu(sid) for name, sid in sessions.items()}
        figures["db"] = processes_cpu(names=("postgres", "redis-server"))
        figures["client"] = sum(os.times()[:2])
        figures["machine"] = machine_cpu()
        return figures

    return read


# --------------------------------------------------------------------------------------------------------------
# Processes: the fake upstream, the database, the server.


@contextlib.contextmanager
def fake_upstream(delay: float, log: Path) -> Iterator[tuple[str, int]]:
    """`tests.fakes.llm_server` in its own process: its URL and pid."""
    cmd = [sys.executable, "-m", "tests.fakes.llm_server", "--port", "0", "--delay", str(delay)]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the fake LLM server did not start: {log.read_text(errors='replace')[-2000:]}")
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def database(args: argparse.Namespace, run_id: str, tmp: Path) -> Iterator[dict[str, str]]:
    """A fresh database (and Redis prefix): the SCRIBE_* settings that point at them; dropped on exit."""
    settings: dict[str, str] = {}
    name = f"scribe_bench_{run_id}"
    if args.postgres:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
        settings["SCRIBE_DATABASE_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    else:
        settings["SCRIBE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'scribe.db'}"
    if args.redis:
        settings |= {"SCRIBE_REDIS_URL": REDIS_URL, "SCRIBE_REDIS_PREFIX": f"{name}:"}
    try:
        yield settings
    finally:
        if args.postgres:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if args.redis:
            asyncio.run(drop_redis_prefix(f"{name}:"))


def server_session_id(port: int) -> int:
    """The session of the process listening on `port` (the server runs in its own session, see http_bench.serve)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[1].endswith(f":{port:04X}") and parts[3] == "0A":  # LISTEN
                inode = parts[9]
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        with contextlib.suppress(OSError):
            if os.readlink(fd) == f"socket:[{inode}]":
                pid = int(fd.parts[2])
                return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])
    raise RuntimeError(f"no process listens on port {port}")


# --------------------------------------------------------------------------------------------------------------
# The server phases.


def api_token(base: str) -> str:
    """Registers the bench user and creates a personal API token (it does not expire during the run)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post("/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD})
        response.raise_for_status()
        access = response.json()["data"]["access_token"]
        body = {"name": "bench", "scopes": ["read", "write"]}
        response = client.post("/api/v1/me/tokens", json=body, headers={"authorization": f"Bearer {access}"})
        response.raise_for_status()
        token: str = response.json()["data"]["token"]
        return token


def process_body(connection: int = 0) -> bytes:
    """Each connection's own transcript: identical concurrent requests would share one job (single-flight)."""
    transcript = f"{TRANSCRIPT}\n\nThat was lecture {connection}."
    return json.dumps({"transcript": transcript, "outputs": list(OUTPUTS), "language": "en"}).encode()


def check_first(base: str, token: str) -> str:
    """One request outside the measurements: it must answer 200 with the three outputs."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    response = httpx.post(f"{base}/api/v1/process", content=process_body(), headers=headers, timeout=60)
    if response.status_code != 200:
        raise RuntimeError(f"POST /api/v1/process answered {response.status_code}: {response.text[:2000]}")
    data = response.json()["data"]
    missing = [o for o in OUTPUTS if not data.get(o)]
    if missing:
        raise RuntimeError(f"POST /api/v1/process answered without {missing}: {response.text[:2000]}")
    nodes = len(data["mind_map"].get("nodes", []))
    return f"{data['provider']}/{data['model']}, {len(response.content)} bytes, mind map of {nodes} nodes"


def server_sender(port: int, token: str, concurrency: int) -> tuple[Send, list[Connection]]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    payloads = [http_request("POST", "/api/v1/process", port, process_body(i), headers) for i in range(concurrency)]
    connections = [Connection(port) for _ in range(concurrency)]
    duration = re.compile(rb'"duration_ms":(\d+)')

    async def send(index: int) -> Sample:
        started = time.perf_counter()
        status, body = await connections[index].request(payloads[index])
        latency = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"{status} {body[:60].decode(errors='replace')}")
        found = duration.search(body)
        return latency, float(found.group(1)) if found else None

    return send, connections


# --------------------------------------------------------------------------------------------------------------
# The upstream baseline: one request's three calls at once, made the way our adapter makes them.


def upstream_requests() -> list[dict[str, Any]]:
    """`messages.create` arguments for the three outputs, as src/infrastructure/ai/anthropic_messages.py builds
    them (the server's own prompts and schemas when importable; else a prompt of the same size)."""
    try:
        from application.processing.prompts import render_transcript, system_prompt, user_prompt
        from domain.outputs import answer_schema
        from domain.transcripts import parse_transcript
        from infrastructure.ai.schema import strict_schema

        transcript = parse_transcript(TRANSCRIPT)
        body = render_transcript(transcript)
        parts = {
            kind: (system_prompt("en"), user_prompt(kind, transcript, body, None), strict_schema(answer_schema(kind)))
            for kind in OUTPUTS
        }
    except Exception as error:  # the tree is being edited: a same-sized prompt will do
        print(f"(upstream baseline: cannot build the server's prompts ({error!r}); using a plain prompt)")
        schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
        parts = {kind: ("You write study notes.", f"Write the {kind}.\n\n{TRANSCRIPT}", schema) for kind in OUTPUTS}
    return [
        {
            "model": MODEL,
            "max_tokens": 4096,
            "system": system,
            "messages": [{"role": "user", "content": prompt}],
            "tools": [
                {
                    "name": kind,
                    "description": f"Record the {kind.replace('_', ' ')} for the transcript.",
                    "input_schema": schema,
                }
            ],
            "tool_choice": {"type": "tool", "name": kind},
        }
        for kind, (system, prompt, schema) in parts.items()
    ]


def sdk_sender(client: Any, calls: list[dict[str, Any]]) -> Send:
    async def send(index: int) -> Sample:
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.messages.create(**call) for call in calls))
        if any(r.content[0].type != "tool_use" for r in responses):
            raise RuntimeError("the fake answered without a tool call")
        return (time.perf_counter() - started) * 1000, None

    return send


def raw_sender(port: int, calls: list[dict[str, Any]], concurrency: int) -> tuple[Send, list[Connection]]:
    headers = {"x-api-key": "bench-key", "anthropic-version": "2023-06-01", "content-type": "application/json"}
    payloads = [http_request("POST", "/v1/messages", port, json.dumps(c).encode(), headers) for c in calls]
    connections = [[Connection(port) for _ in calls] for _ in range(concurrency)]

    async def send(index: int) -> Sample:
        started = time.perf_counter()
        answers = await asyncio.gather(*(c.request(p) for c, p in zip(connections[index], payloads, strict=True)))
        if any(status != 200 for status, _ in answers):
            raise RuntimeError(f"upstream {[status for status, _ in answers]}")
        return (time.perf_counter() - started) * 1000, None

    return send, [c for group in connections for c in group]


async def upstream_phases(
    url: str, levels: list[int], rates: dict[int, float], warmup: float, duration: float, cpu: Callable[[], Any]
) -> dict[tuple[str, int], Phase]:
    import anthropic

    calls = upstream_requests()
    port = httpx.URL(url).port or 80
    phases: dict[tuple[str, int], Phase] = {}
    # As the server's adapter: one long-lived client, the SDK's default connection limits, no retries.
    client = anthropic.AsyncAnthropic(api_key="bench-key", base_url=url, timeout=30, max_retries=0)
    try:
        for level in levels:
            for how, (send, connections) in (
                ("sdk", (sdk_sender(client, calls), [])),
                ("raw", raw_sender(port, calls, level)),
            ):
                phase = Phase(f"upstream {how}", level)
                phases[how, level] = await closed_loop(
                    phase, send, warmup, duration, rates.get(level), cpu_of=cpu, connections=connections
                )
    finally:
        await client.close()
    return phases


# --------------------------------------------------------------------------------------------------------------
# Profile reading.

IDLE = "(idle: the loop waiting for I/O)"
LOOP = "(event loop bookkeeping)"


@dataclass(slots=True)
class Profile:
    """Seconds per function (inclusive: on the stack; own: at the top) and per package (own time), and per "our
    frame": the deepest frame of src/ on the stack, i.e. which of our code paths a sample's time is spent for."""

    total: float = 0.0
    inclusive: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    own: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    packages: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    ours: dict[str, float] | None = None

    @property
    def busy(self) -> float:
        return max(self.total - self.packages.get(IDLE, 0.0), 1e-9)


def short_path(path: str) -> str:
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


def package_of(path: str) -> str:
    short = short_path(path)
    if short.startswith("src/"):
        return "ours: " + "/".join(short.split("/")[1:3]).removesuffix(".py")
    if "site-packages/" in path:
        return short.split("/", 1)[0].removesuffix(".py")
    return "stdlib " + short.split("/", 1)[0].removesuffix(".py")


def read_pyinstrument(path: Path) -> Profile:
    """Each sample's stack is cut below asyncio's `Handle._run` (what one callback, e.g. a task step, runs);
    samples without it are the loop itself (polling = idle) or SQLAlchemy's greenlets (their own stacks). C
    functions count towards the package of their Python caller."""
    from pyinstrument.session import Session

    profile = Profile(ours=defaultdict(float))
    assert profile.ours is not None
    for stack, seconds in Session.load(path).frame_records:
        profile.total += seconds
        frames = []  # (name, file)
        for info in stack[1:]:  # [0] is the thread
            identifier, *attributes = info.split("\x01")
            function, _, rest = identifier.partition("\x00")
            file, _, line = rest.partition("\x00")
            cls = next((a[1:] for a in attributes if a.startswith("c")), "")
            label = f"{cls}.{function}" if cls else function
            frames.append((f"{label}  {short_path(file)}:{line}" if file != "<built-in>" else f"{label} [C]", file))
        cut = max((i for i, (_, file) in enumerate(frames) if file.endswith("asyncio/events.py")), default=None)
        if cut is not None:
            frames = frames[cut + 1 :]
        elif any("_run_once  " in name and file.endswith("asyncio/base_events.py") for name, file in frames):
            idle = frames[-1][0].startswith("epoll.poll")
            profile.packages[IDLE if idle else LOOP] += seconds
            continue
        if not frames:
            profile.packages[LOOP] += seconds
            continue
        for name in {name for name, _ in frames}:
            profile.inclusive[name] += seconds
        leaf = frames[-1][0]
        profile.own[leaf] += seconds
        caller = next((file for _, file in reversed(frames) if file != "<built-in>"), "<built-in>")
        profile.packages[package_of(caller)] += seconds
        own_frame = next((name for name, file in reversed(frames) if short_path(file).startswith("src/")), None)
        if own_frame is None:
            own_frame = "(SQLAlchemy greenlet: caller unknown)" if cut is None else "(framework: no frame of ours)"
        profile.ours[own_frame] += seconds
    return profile


def read_cprofile(path: Path) -> Profile:
    import pstats

    stats = pstats.Stats(str(path))
    profile = Profile(total=stats.total_tt)  # type: ignore[attr-defined]
    for (file, line, function), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        name = f"{function}  {short_path(file)}:{line}" if file != "~" else f"{function} [C]"
        profile.inclusive[name], profile.own[name] = ct, tt
        if file == "~":  # a builtin: epoll's poll is the loop waiting for I/O
            profile.packages[IDLE if "select.epoll" in function else "builtins"] += tt
        else:
            profile.packages[package_of(file)] += tt
    return profile


def report_profile(path: Path, kind: str, phase: Phase, top: int) -> None:
    profile = (read_pyinstrument if kind == "pyinstrument" else read_cprofile)(path)
    n = len(phase.latencies_ms) or 1
    busy = profile.busy
    unprofiled = phase.cpu_s.get("server", 0.0) * 1000 / n
    print(
        f"\nProfile ({kind}) of the server's event-loop thread at {phase.concurrency} concurrent: "
        f"{profile.total:.1f} s, {profile.packages.get(IDLE, 0.0):.1f} s of it idle; {n} requests completed "
        f"({phase.rate:.0f} req/s, p50 {phase.p(50):.0f} ms, the profiler slows the server down): "
        f"{busy * 1000 / n:.1f} ms busy per request (the server process used {unprofiled:.1f} ms CPU per request "
        "meanwhile). Columns: ms per request, share of the busy time."
    )

    def rows(title: str, items: dict[str, float], with_own: bool = False) -> None:
        print(f"\n{title}")
        ranked = [(k, v) for k, v in items.items() if k != IDLE and "select.epoll" not in k]  # idle
        ranked = sorted(ranked, key=lambda kv: -kv[1])[:top]
        for name, seconds in ranked:
            own = f"  self {profile.own.get(name, 0.0) * 1000 / n:6.2f}" if with_own else ""
            print(f"  {seconds * 1000 / n:7.2f} {seconds / busy:6.1%}{own}  {name}")

    rows(f"Own time by package (C functions count for their caller), top {top}:", profile.packages)
    if profile.ours is not None:
        rows(
            f"By the deepest frame of ours on the stack (which of our code paths the time is spent for), top {top}:",
            profile.ours,
        )
    if kind == "cprofile":
        # SQLAlchemy's greenlet switches and resumed coroutines never "return" to cProfile: its cumulative times
        # add up to many times the run. Own times stay right.
        rows(f"Top {top} by own time (cProfile's cumulative times are meaningless here):", profile.own)
    else:
        rows(f"Top {top} cumulative hot spots (inclusive time; event-loop frames cut off):", profile.inclusive, True)


# --------------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20, help="seconds measured at high concurrency (20)")
    parser.add_argument("--low-duration", type=float, default=10, help="seconds measured at low concurrency (10)")
    parser.add_argument("--upstream-duration", type=float, default=10, help="seconds per baseline phase (10)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up before each phase (3)")
    parser.add_argument("--concurrency", type=int, default=200, help="in-flight requests, high level (200)")
    parser.add_argument("--low", default="1,10", help="low concurrency levels, comma-separated (1,10)")
    parser.add_argument("--delay", type=float, default=0.05, help="the fake upstream's answer delay, s (0.05)")
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database instead of SQLite")
    parser.add_argument("--redis", action="store_true", help="Redis at 127.0.0.1:6379 with a unique prefix")
    parser.add_argument("--profile", action="store_true", help="then profile the server at high concurrency")
    parser.add_argument("--profiler", choices=("pyinstrument", "cprofile"), default="pyinstrument")
    parser.add_argument("--profile-at", type=int, help="concurrency of the profiled phase (--concurrency)")
    parser.add_argument("--top", type=int, default=25, help="hot spots to print (25)")
    parser.add_argument("--profile-out", type=Path, help="also keep the raw profile here (pyinstrument --load=...)")
    args = parser.parse_args()
    levels = [*(int(n) for n in args.low.split(",") if n.strip()), args.concurrency]

    run_id = uuid.uuid4().hex[:10]
    with tempfile.TemporaryDirectory(prefix="scribe-process-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with fake_upstream(args.delay, tmp / "fake.log") as (fake_url, fake_pid), database(args, run_id, tmp) as db:
            env = clean_env(
                SCRIBE_ENV="development",
                SCRIBE_ANTHROPIC_API_KEY="bench-key",
                SCRIBE_ANTHROPIC_BASE_URL=fake_url,
                SCRIBE_AI_CHAIN="anthropic",
                SCRIBE_REGISTRATIONS_PER_IP="1000000",
                SCRIBE_ARGON2_MEMORY_KIB="256",
                SCRIBE_ARGON2_TIME_COST="1",
                SCRIBE_LOG_LEVEL="warning",
                SCRIBE_AI_TIMEOUT_SECONDS="30",
                SCRIBE_RESULT_CACHE_SECONDS="0",  # every request a job of its own: the processing is measured
                **db,
            )
            subprocess.run(
                [SCRIBE, "db", "upgrade"], env=env, cwd=ROOT, check=True, timeout=120, stdout=subprocess.DEVNULL
            )
            port = free_port()
            if args.profile:
                profile_out = tmp / "server.profile"
                env |= {
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bench"), env.get("PYTHONPATH")])),
                    "BENCH_PROFILER": args.profiler,
                    "BENCH_PROFILE_OUT": str(profile_out),
                }
                cmd = [sys.executable, "bench/profiled_asgi.py", f"--port={port}"]
            else:
                cmd = [SCRIBE, "serve", "--host=127.0.0.1", f"--port={port}", "--workers=1", "--no-migrate"]
            with serve(cmd, env, tmp / "server.log", port, ready_path="/api/health"):
                base = f"http://127.0.0.1:{port}"
                token = api_token(base)
                print(f"first answer: {check_first(base, token)}")
                cpu = cpu_reader({"server": server_session_id(port), "fake": fake_pid})
                served: dict[int, Phase] = {}
                for level in levels:
                    long = level == args.concurrency
                    phase = Phase("server", level)
                    duration = args.duration if long else args.low_duration
                    send, connections = server_sender(port, token, level)
                    served[level] = asyncio.run(
                        closed_loop(phase, send, args.warmup, duration, cpu_of=cpu, connections=connections)
                    )
                    print(f"  server  c={level:<4} {phase.rate:7.1f} req/s  p50 {phase.p(50):7.1f} ms", flush=True)
                profiled = None
                if args.profile:
                    profiled = Phase("server profiled", args.profile_at or args.concurrency)
                    send, connections = server_sender(port, token, profiled.concurrency)
                    control = Connection(port)

                    async def toggle(action: str) -> None:
                        payload = http_request("GET", f"/__bench/profile/{action}", port, b"", {})
                        status, text = await control.request(payload)
                        if status != 200:
                            raise RuntimeError(f"profile {action}: {status} {text!r}")

                    hooks = (lambda: toggle("start"), lambda: toggle("stop"))
                    asyncio.run(
                        closed_loop(
                            profiled,
                            send,
                            args.warmup,
                            args.duration,
                            on_window=hooks,
                            cpu_of=cpu,
                            connections=[*connections, control],
                        )
                    )
            rates = {level: phase.rate for level, phase in served.items() if phase.rate > 0}
            upstream = asyncio.run(
                upstream_phases(
                    fake_url, levels, rates, args.warmup, args.upstream_duration, cpu_reader({"fake": fake_pid})
                )
            )

        report(args, levels, served, upstream)
        if profiled is not None and args.profile_out:
            shutil.copyfile(tmp / "server.profile", args.profile_out)
        if profiled is not None:
            report_profile(tmp / "server.profile", args.profiler, profiled, args.top)
    return 0


def report(
    args: argparse.Namespace, levels: list[int], served: dict[int, Phase], upstream: dict[tuple[str, int], Phase]
) -> None:
    store = ("PostgreSQL" if args.postgres else "SQLite") + (" + Redis" if args.redis else "")
    print(
        f"\nPOST /api/v1/process, outputs {'+'.join(OUTPUTS)}, ~{len(TRANSCRIPT.split())} words, "
        f"fake upstream {args.delay * 1000:.0f} ms, one server process, {store}"
    )
    print(f"\n{'phase':<14}{'conc':>5}{'req/s':>8}{'p50':>9}{'p90':>9}{'p99':>9}{'use case p50/p99':>18}  failures")
    for level in levels:
        rows = [served[level], upstream["sdk", level], upstream["raw", level]]
        for row in rows:
            cases = row.in_use_case_ms
            use_case = f"{row.p(50, cases):9.0f} /{row.p(99, cases):5.0f}" if cases else ""
            print(
                f"{row.name:<14}{level:>5}{row.rate:>8.1f}{row.p(50):>9.1f}{row.p(90):>9.1f}{row.p(99):>9.1f}"
                f"{use_case:>18}  {dict(row.failures) or ''}"
            )
    print(
        "(ms; 'use case' is the server's own duration_ms: transcript to validated outputs, before the history is"
        " saved; upstream rows: one request's 3 calls at once, paced at the server's rate)"
    )

    print(f"\nOverhead = server - upstream at the same concurrency (target p50 < {TARGET_P50_OVERHEAD_MS:.0f} ms):")
    print(f"{'conc':>5}  {'vs SDK p50':>11}{'p99':>9}{'x target':>10}  {'vs raw p50':>11}{'p99':>9}{'x target':>10}")
    for level in levels:
        server, cells = served[level], []
        for how in ("sdk", "raw"):
            base = upstream[how, level]
            p50, p99 = server.p(50) - base.p(50), server.p(99) - base.p(99)
            cells.append(f"{p50:>11.1f}{p99:>9.1f}{p50 / TARGET_P50_OVERHEAD_MS:>9.1f}x")
        print(f"{level:>5}  {'  '.join(cells)}")

    print(
        "\nCPU ms per request (whole processes: the server with its I/O and SQLite threads; 'client' is this"
        " process: the load client, or the SDK / raw calls of the upstream rows; 'db' is PostgreSQL + Redis;"
        " 'others' is everything else on the machine); machine busy in cores (of 2):"
    )
    print(f"{'phase':<14}{'conc':>5}{'server':>9}{'fake':>8}{'client':>8}{'db':>8}{'others':>8}{'busy':>8}")
    noise = 0.0  # the most cores other processes used in a phase
    for level in levels:
        for row in (served[level], upstream["sdk", level], upstream["raw", level]):
            n, cpu, seconds = len(row.latencies_ms) or 1, row.cpu_s, row.seconds or 1.0
            ours = sum(cpu.get(k, 0.0) for k in ("server", "fake", "client", "db"))
            others = cpu.get("machine", 0.0) - ours
            noise = max(noise, others / seconds)
            cells = [cpu.get("server"), cpu.get("fake"), cpu.get("client"), cpu.get("db"), others]
            text = "".join(f"{v * 1000 / n:>8.2f}" if v is not None else f"{'':>8}" for v in cells)
            print(f"{row.name:<14}{level:>5} {text}{cpu.get('machine', 0.0) / seconds:>8.2f}")
    if noise > 0.15:
        print(f"WARNING: other processes used up to {noise:.2f} cores during a phase: the machine was not quiet.")


if __name__ == "__main__":
    sys.exit(main())
