"""History listing latency on a large history, through the application's own use case (issue #12).

    .venv/bin/python bench/seed_history.py                    # prints the database URL it seeded
    .venv/bin/python bench/history_bench.py --database-url postgresql://postgres@127.0.0.1:5432/scribe_histbench_...
    .venv/bin/python bench/history_bench.py --database-url ... --samples 50 --explain   # + each query's plan
    .venv/bin/python bench/history_bench.py --database-url ... --drop                   # drop the database after

For the heavy user of bench/seed_history.py (heavy@bench.example), each sample is one `ListHistory` call as the
HTTP route makes it: a request scope of the production container (`make_container`), its SQLAlchemy session,
the SQL of `SqlHistoryRepository.list_for_user`, the entries, snippets and the sealed cursor. Only HTTP and JSON
encoding are left out. Cases, `--samples` each after a few warm-up calls: page 1 without filters and page 1,000
(limit 20: the 999 pages before it are walked once for the cursor), sampled in turn; full text with two words
and language=pl (two that come together; a word in most rows and a rarer one); a word in most rows alone;
`zrodlo`, which must find `źródło`; and pages past the ranked matches of the two-word queries. Targets: p95 < 50
ms; page 1,000 within 2x of page 1.

CSV export (when `application.history_export` exists): the heavy user's whole history through `ExportHistory`,
consumed and discarded: time, bytes, and the process's peak RSS during the export (peak reset before it).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import asyncpg  # type: ignore[import-untyped]  # noqa: E402
from dishka import AsyncContainer  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from application.auth.authenticate import ALL_SCOPES, Principal  # noqa: E402
from application.history import HistoryHit, HistoryQuery, HistorySelection, ListHistory  # noqa: E402
from application.history_export import ExportFormat, ExportHistory  # noqa: E402
from application.pagination import Page  # noqa: E402
from application.ports import UserRepository  # noqa: E402
from infrastructure.bootstrap.container import make_container  # noqa: E402
from infrastructure.bootstrap.settings import Settings  # noqa: E402

HEAVY_EMAIL = "heavy@bench.example"
PAGE_SIZE = 20
WARM_UP = 5
TARGET_P95_MS = 50.0
TARGET_DEEP_RATIO = 2.0
# Pages after the ranked matches, found newest first: (query, page number). ~170 of the heavy user's newest 1,000
# entries match the first (9 ranked pages), ~14 the second (the rest of page 1 is already newest first).
PAST_RANKED = (
    (HistoryQuery(q="energii fotowoltaiczne", language="pl"), 12),
    (HistoryQuery(q="praktyce chlorofil", language="pl"), 5),
)
CASES = {
    "page 1": HistoryQuery(limit=PAGE_SIZE),
    "full text 'energii fotowoltaiczne' + language=pl": HistoryQuery(q="energii fotowoltaiczne", language="pl"),
    "full text 'praktyce chlorofil' + language=pl": HistoryQuery(q="praktyce chlorofil", language="pl"),
    "full text 'praktyce' (common word alone)": HistoryQuery(q="praktyce"),
    "full text 'zrodlo' (finds źródło)": HistoryQuery(q="zrodlo"),
}


class Bench:
    def __init__(self, container: AsyncContainer, principal: Principal) -> None:
        self.container, self.principal = container, principal

    async def list_page(self, query: HistoryQuery) -> Page[HistoryHit]:
        async with self.container() as request:
            list_history = await request.get(ListHistory)
            return await list_history(self.principal, query)

    async def timed(self, query: HistoryQuery) -> float:
        started = time.perf_counter()
        await self.list_page(query)
        return (time.perf_counter() - started) * 1000

    async def samples(self, query: HistoryQuery, count: int) -> list[float]:
        for _ in range(WARM_UP):
            await self.list_page(query)
        return [await self.timed(query) for _ in range(count)]

    async def paired_samples(self, first: HistoryQuery, second: HistoryQuery, count: int) -> list[list[float]]:
        """Both queries in turn, so a change in the machine's load falls on both alike (their ratio is a target)."""
        for _ in range(WARM_UP):
            await self.list_page(first)
            await self.list_page(second)
        pairs = [(await self.timed(first), await self.timed(second)) for _ in range(count)]
        return [list(times) for times in zip(*pairs, strict=True)]


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _row(name: str, samples: list[float], note: str = "") -> tuple[float, float, float]:
    p50, p95, p99 = _percentiles(samples)
    verdict = "ok" if p95 < TARGET_P95_MS else "MISSED"
    print(f"{name:<58} {p50:7.1f} {p95:7.1f} {p99:7.1f}   p95 < {TARGET_P95_MS:.0f} ms: {verdict}  {note}")
    return p50, p95, p99


async def _deep_cursor(bench: Bench, deep_page: int) -> tuple[str, float]:
    """The cursor of page `deep_page`, walked from page 1; and how long the walk took."""
    started = time.perf_counter()
    query = HistoryQuery(limit=PAGE_SIZE)
    for _ in range(deep_page - 1):
        page = await bench.list_page(query)
        assert page.next_cursor is not None, "the heavy user has fewer pages than the bench walks"
        query = HistoryQuery(limit=PAGE_SIZE, cursor=page.next_cursor)
    assert query.cursor is not None
    return query.cursor, time.perf_counter() - started


async def _at_page(bench: Bench, query: HistoryQuery, number: int) -> HistoryQuery | None:
    """`query` with the cursor of its page `number`; None when it has fewer pages (a small seed)."""
    for _ in range(number - 1):
        page = await bench.list_page(query)
        if page.next_cursor is None:
            return None
        query = dataclasses.replace(query, cursor=page.next_cursor)
    return query


async def _matches(dsn: str, user_id: Any) -> dict[str, int]:
    """How many of the heavy user's rows each full-text case matches (counted directly, not timed)."""
    connection = await asyncpg.connect(dsn)
    try:
        found = {}
        for name, query in CASES.items():
            if query.q:
                terms = " & ".join(f"{word}:*" for word in query.q.split())
                language = "AND language = $3" if query.language else ""
                found[name] = await connection.fetchval(
                    "SELECT count(*) FROM processing_history WHERE user_id = $1 "
                    f"AND search_vector @@ to_tsquery('simple', $2) {language}",
                    user_id,
                    terms,
                    *([query.language] if query.language else []),
                )
        return found
    finally:
        await connection.close()


class StatementLog:
    """The statements one call sends (those reading processing_history), to EXPLAIN them as the repository sent
    them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sent: list[tuple[str, Any]] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM processing_history" in statement:
            self.sent.append((statement, parameters))

    async def explain(self, run: Callable[[], Awaitable[Any]]) -> str:
        self.sent = []
        await run()
        plans = []
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.execute("SET plan_cache_mode = force_custom_plan")  # as the repository's full text does
            for statement, parameters in self.sent:
                plan = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *parameters)
                plans.append("\n".join("    " + row[0] for row in plan))
        return "\n\n".join(plans)


async def _export(bench: Bench) -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets the peak RSS (VmHWM) to the current RSS
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    size = entries = 0
    async with bench.container() as request:
        export = await request.get(ExportHistory)
        result = await export(bench.principal, HistorySelection(), ExportFormat.CSV)
        async for chunk in result.chunks:
            size += len(chunk.data)
            entries += chunk.entries
    elapsed = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    print(
        f"CSV export of the heavy user: {entries:,} entries, {size / 2**20:.0f} MiB in {elapsed:.1f} s "
        f"({entries / elapsed:,.0f} entries/s); peak RSS {peak / 1024:.0f} MiB during the export "
        f"({(peak - before) / 1024:+.0f} MiB over the {before / 1024:.0f} MiB before it)"
    )


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


async def run(dsn: str, count: int, deep_page: int, explain: bool) -> None:
    settings = Settings(database_url=dsn.replace("postgresql://", "postgresql+asyncpg://"))
    container = make_container(settings)
    try:
        async with container() as request:
            user = await (await request.get(UserRepository)).get_by_email(HEAVY_EMAIL)
        if user is None:
            raise SystemExit(f"{HEAVY_EMAIL} is not in this database: seed it with bench/seed_history.py")
        bench = Bench(container, Principal(user, ALL_SCOPES))
        log = StatementLog(await container.get(AsyncEngine))
        matches = await _matches(dsn, user.id)
        print(f"heavy user {HEAVY_EMAIL}, {user.usage_count:,} rows; {count} samples per case, limit {PAGE_SIZE}\n")
        hits = await bench.list_page(CASES["full text 'zrodlo' (finds źródło)"])
        snippets = [h.snippet.text.lower() if h.snippet else "" for h in hits.items]
        if not snippets or not all("źródł" in text for text in snippets):
            raise SystemExit(f"`zrodlo` should find `źródło` in every hit's snippet; got {snippets[:2]}")
        cursor, walk = await _deep_cursor(bench, deep_page)
        deep = HistoryQuery(limit=PAGE_SIZE, cursor=cursor)
        print(f"walked pages 1-{deep_page - 1} once in {walk:.1f} s ({walk / (deep_page - 1) * 1000:.1f} ms a page)\n")
        print(f"{'case':<58} {'p50 ms':>7} {'p95':>7} {'p99':>7}")
        first_samples, deep_samples = await bench.paired_samples(CASES["page 1"], deep, count)
        first = _row("page 1", first_samples)
        last = _row(f"page {deep_page:,} (cursor; sampled in turn with page 1)", deep_samples)
        for name, query in CASES.items():
            if name != "page 1":
                _row(name, await bench.samples(query, count), f"({matches[name]:,} matches)")
        for query, number in PAST_RANKED:
            past = await _at_page(bench, query, number)
            if past is None:
                print(f"'{query.q}' + pl, page {number}: fewer pages in this seed")
            else:
                _row(f"'{query.q}' + pl, page {number}", await bench.samples(past, count), "(past the ranked)")
        ratio = last[0] / first[0], last[1] / first[1]
        verdict = "ok" if max(ratio) <= TARGET_DEEP_RATIO else "MISSED"
        print(
            f"\npage {deep_page:,} / page 1: p50 {ratio[0]:.2f}x, p95 {ratio[1]:.2f}x   "
            f"within {TARGET_DEEP_RATIO:.0f}x: {verdict}\n"
        )
        if explain:
            for name, query in [*CASES.items(), (f"page {deep_page:,}", deep)]:
                plan = await log.explain(functools.partial(bench.list_page, query))
                print(f"EXPLAIN (ANALYZE, BUFFERS) {name}:\n{plan}\n")
        await _export(bench)
    finally:
        await container.close()


async def _drop(dsn: str) -> None:
    server, name = dsn.rsplit("/", 1)
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
    print(f"dropped {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="what bench/seed_history.py seeded")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--deep-page", type=int, default=1000, help="the page compared with page 1")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of each case")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    dsn = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        asyncio.run(run(dsn, args.samples, args.deep_page, args.explain))
    finally:
        if args.drop:
            asyncio.run(_drop(dsn))


if __name__ == "__main__":
    main()
