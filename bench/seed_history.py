"""Seeds PostgreSQL with a large processing history for bench/history_bench.py.

    .venv/bin/python bench/seed_history.py          # 1,000,000 rows, 1,000 users: 16 min on a busy 2-core box
    .venv/bin/python bench/seed_history.py --rows 20000 --users 50 --heavy 5000
    .venv/bin/python bench/seed_history.py --database-url postgresql://postgres@127.0.0.1:5432/mydb

Without --database-url it creates `scribe_histbench_<id>` on 127.0.0.1:5432 (user postgres, trust) and prints its
URL; drop it afterwards (`bench/history_bench.py --drop`, or `DROP DATABASE ...`). The database is migrated to head
with the project's own migrations, then gets `--users` users (the heavy one is heavy@bench.example, with `--heavy`
rows) and `--rows` history rows in Polish and English (bench/history_corpus.py), created_at spread over the last
year and inserted in that order, as the application appends them. `search_text` is what the application's
`searchable_text` gives (checked on a sample); `search_vector` is PostgreSQL's generated column. The table's
secondary indexes are dropped for the load and rebuilt from their own definitions, then everything is ANALYZEd.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg  # type: ignore[import-untyped]  # noqa: E402
import msgspec  # noqa: E402
from history_corpus import Piece, SubjectPool, subject_pools  # noqa: E402

from application.presenters.mind_map import react_flow_graph  # noqa: E402
from domain.mind_map import MindMapNodeSpec, build_mind_map  # noqa: E402
from domain.search import searchable_text  # noqa: E402
from domain.usage import AttemptRecord, Attribution, OutputAttribution, Payer, Spend  # noqa: E402
from infrastructure.persistence import migrations  # noqa: E402

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
HEAVY_EMAIL = "heavy@bench.example"
BATCH = 5000
CHECK_EVERY = 997  # rows whose search_text is compared with the application's searchable_text
# (provider, model, USD per 1M tokens in / out)
MODELS = (
    ("anthropic", "claude-sonnet-4-6", 3.0, 15.0),
    ("anthropic", "claude-haiku-4-5", 1.0, 5.0),
    ("openai", "gpt-4.1-mini", 0.4, 1.6),
    ("openai", "gpt-4.1", 2.0, 8.0),
    ("gemini", "gemini-2.5-flash", 0.3, 2.5),
    ("local", "extractive", 0.0, 0.0),
)
MODEL_WEIGHTS = (40, 15, 20, 5, 12, 8)
PURPOSES = (("learning", "mind_map", 60), ("social_media", "social_post", 25), ("custom", "custom", 15))
HISTORY_COLUMNS = (
    "id", "user_id", "transcript_hash", "purpose", "summary", "topics", "mind_map", "social_post", "created_at",
    "outputs", "key_topics", "custom_prompt", "custom_output", "video_id", "video_url", "title", "language",
    "provider", "model", "tokens_in", "tokens_out", "cost_usd", "duration_ms", "cached", "attribution", "search_text",
)  # fmt: skip
USER_COLUMNS = (
    "id", "email", "usage_count", "created_at", "updated_at", "password_hash", "display_name",
    "preferred_language", "tier", "role", "disabled", "email_verified", "tokens_valid_after",
)  # fmt: skip
_VIDEO_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class UserProfile:
    def __init__(self, index: int, rng: random.Random, pools: dict[str, list[SubjectPool]]) -> None:
        self.id = uuid.uuid4()
        self.email = HEAVY_EMAIL if index == 0 else f"user{index:04d}@bench.example"
        self.language = "pl" if index == 0 or rng.random() < 0.6 else "en"
        # Most of a user's videos are about a few subjects of theirs.
        self.favourites = {code: rng.sample(subjects, 3) for code, subjects in pools.items()}
        self.videos = ["".join(rng.choices(_VIDEO_ALPHABET, k=11)) for _ in range(rng.randint(5, 400))]


def _mind_map(pool: SubjectPool, rng: random.Random) -> str:
    """A React Flow graph as the application stores it: a root, 3-5 branches of 2-4 leaves."""
    specs = [MindMapNodeSpec("r", pool.subject, None, None)]
    for b, branch in enumerate(rng.sample(pool.terms, rng.randint(3, 5))):
        specs.append(MindMapNodeSpec(f"b{b}", branch, "r", float(rng.randint(0, 3600))))
        for leaf in range(rng.randint(2, 4)):
            label = rng.choice(pool.language.general)
            specs.append(MindMapNodeSpec(f"b{b}l{leaf}", label, f"b{b}", None))
    return json.dumps(react_flow_graph(build_mind_map(specs)), ensure_ascii=False)


def _attribution(outputs: list[str], provider: str, model: str, spend: Spend) -> str:
    share = Spend(spend.tokens_in // len(outputs), spend.tokens_out // len(outputs), spend.cost_usd / len(outputs))
    payer = Payer.NONE if provider == "local" else Payer.SERVER_KEY
    records = tuple(
        OutputAttribution(o, provider, model, payer, (AttemptRecord(provider, model, payer, "served", 1, share),))
        for o in outputs
    )
    return msgspec.json.encode(Attribution(records)).decode()


class RowMaker:
    def __init__(self, seed: int, users: list[UserProfile], pools: dict[str, list[SubjectPool]]) -> None:
        self.rng = random.Random(seed)
        self.users, self.pools = users, pools
        self.mind_maps = {p.subject: [_mind_map(p, self.rng) for _ in range(20)] for ps in pools.values() for p in ps}
        self.checked = 0

    def row(self, user: UserProfile, created_at: datetime, number: int) -> tuple[Any, ...]:
        rng = self.rng
        language = user.language if rng.random() < 0.75 else ("en" if user.language == "pl" else "pl")
        subjects = self.pools[language]
        pool = rng.choice(user.favourites[language]) if rng.random() < 0.7 else rng.choice(subjects)
        purpose, own_output, _ = rng.choices(PURPOSES, weights=[p[2] for p in PURPOSES])[0]
        summary, title = pool.summary(rng), pool.title(rng)
        topics, key_topics = pool.topics(rng)
        mind_map = rng.choice(self.mind_maps[pool.subject]) if own_output == "mind_map" else None
        social = pool.social_post(rng) if own_output == "social_post" else None
        has_prompt = purpose != "custom" or rng.random() < 0.8
        custom = pool.custom_output(rng) if own_output == "custom" and has_prompt else None
        prompt = rng.choice(pool.language.prompts) if custom else None
        outputs = ["summary", "topics"] + ([own_output] if own_output != "custom" or custom else [])
        video_id = rng.choice(user.videos) if rng.random() < 0.85 else None
        provider, model, price_in, price_out = rng.choices(MODELS, weights=MODEL_WEIGHTS)[0]
        cached = rng.random() < 0.1
        spend = Spend()
        if not cached and provider != "local":
            tokens_in, tokens_out = rng.randint(2_000, 40_000), rng.randint(400, 3_000)
            spend = Spend(tokens_in, tokens_out, (tokens_in * price_in + tokens_out * price_out) / 1e6)
        searched = (title, summary, topics, social, custom)
        search_text = "\n".join(p.folded for p in searched if p is not None and p.text)
        if number % CHECK_EVERY == 0:
            expected = searchable_text(*(p.text if p else None for p in searched))
            assert search_text == expected, "search_text differs from the application's searchable_text"
            self.checked += 1
        return (
            uuid.uuid4(),
            user.id,
            f"{rng.getrandbits(256):064x}",
            purpose,
            summary.text,
            topics.text,
            mind_map,
            _text(social),
            created_at,
            " ".join(outputs),
            json.dumps(key_topics, ensure_ascii=False),
            prompt,
            _text(custom),
            video_id,
            f"https://www.youtube.com/watch?v={video_id}" if video_id else None,
            title.text,
            language,
            provider,
            model,
            spend.tokens_in,
            spend.tokens_out,
            Decimal(f"{spend.cost_usd:.6f}"),
            0 if cached else rng.randint(800, 45_000),
            cached,
            None if cached else _attribution(outputs, provider, model, spend),
            search_text,
        )


def _text(piece: Piece | None) -> str | None:
    return piece.text if piece else None


def _owners(rows: int, users: int, heavy: int, rng: random.Random) -> list[int]:
    """Which user each row belongs to (an index into the user list; 0 is the heavy user), in insertion order."""
    others = rows - heavy
    weights = [rng.lognormvariate(0, 1) for _ in range(users - 1)]
    owners = [0] * heavy + [1 + i for i in rng.choices(range(users - 1), weights=weights, k=others)]
    rng.shuffle(owners)
    return owners


async def _secondary_indexes(connection: Any) -> list[tuple[str, str]]:
    rows = await connection.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'processing_history' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
    )
    return [(r["indexname"], r["indexdef"]) for r in rows]


class Plan:
    """Everything the loaders share, made before they fork: corpus, users, and which user owns each row."""

    def __init__(self, dsn: str, rows: int, users: int, heavy: int, seed_value: int) -> None:
        rng = random.Random(seed_value)
        self.dsn, self.rows, self.seed = dsn, rows, seed_value
        self.pools = subject_pools(seed_value)
        self.profiles = [UserProfile(i, rng, self.pools) for i in range(users)]
        self.owners = _owners(rows, users, heavy, rng)
        self.year_ago = datetime.now(UTC) - timedelta(days=365)


_plan: Plan | None = None  # set before the loader processes fork


def _load_share(worker: int, workers: int) -> int:
    """Inserts batches worker, worker + workers, ... with its own connection; returns the rows checked."""
    return asyncio.run(_copy_batches(worker, workers))


async def _copy_batches(worker: int, workers: int) -> int:
    plan = _plan
    assert plan is not None
    maker = RowMaker(plan.seed + 1 + worker, plan.profiles, plan.pools)
    step = timedelta(days=365) / plan.rows
    connection = await asyncpg.connect(plan.dsn)
    try:
        for start in range(worker * BATCH, plan.rows, workers * BATCH):
            numbers = range(start, min(start + BATCH, plan.rows))
            records = [
                maker.row(plan.profiles[plan.owners[n]], plan.year_ago + step * (n + maker.rng.random()), n)
                for n in numbers
            ]
            await connection.copy_records_to_table("processing_history", columns=HISTORY_COLUMNS, records=records)
            if worker == 0 and (start // BATCH) % (100_000 // BATCH) == 0:
                print(f"  ~{start:>9,} rows", flush=True)
    finally:
        await connection.close()
    return maker.checked


async def _prepare(plan: Plan) -> list[tuple[str, str]]:
    """Inserts the users and drops the history's secondary indexes; returns their definitions."""
    connection = await asyncpg.connect(plan.dsn)
    try:
        counts = [0] * len(plan.profiles)
        for owner in plan.owners:
            counts[owner] += 1
        when = plan.year_ago
        await connection.copy_records_to_table(
            "users",
            columns=USER_COLUMNS,
            records=[
                (p.id, p.email, counts[i], when, when, "$argon2id$v=19$m=19456,t=2,p=1$bench$bench",
                 f"Bench user {i}", p.language, "free", "user", False, True, when)
                for i, p in enumerate(plan.profiles)
            ],
        )  # fmt: skip
        indexes = await _secondary_indexes(connection)
        for name, _ in indexes:
            await connection.execute(f'DROP INDEX "{name}"')
        return indexes
    finally:
        await connection.close()


async def _finish(dsn: str, indexes: list[tuple[str, str]]) -> tuple[str, str]:
    """Rebuilds the indexes and ANALYZEs; returns the sizes of the table and the database."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        for name, definition in indexes:
            await connection.execute(definition)
            print(f"  index {name} rebuilt ({time.perf_counter() - started:.0f} s so far)", flush=True)
        await connection.execute("ANALYZE users")
        await connection.execute("ANALYZE processing_history")
        table = await connection.fetchval("SELECT pg_size_pretty(pg_total_relation_size('processing_history'))")
        database = await connection.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return table, database
    finally:
        await connection.close()


def seed(dsn: str, rows: int, users: int, heavy: int, seed_value: int, workers: int) -> None:
    global _plan
    started = time.perf_counter()
    _plan = plan = Plan(dsn, rows, users, heavy, seed_value)
    print(f"corpus and plan ready in {time.perf_counter() - started:.1f} s", flush=True)
    indexes = asyncio.run(_prepare(plan))
    loading = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        checked = sum(pool.map(_load_share, range(workers), [workers] * workers))
    loaded = time.perf_counter() - loading
    indexing = time.perf_counter()
    table, database = asyncio.run(_finish(dsn, indexes))
    built, total = time.perf_counter() - indexing, time.perf_counter() - started
    print(
        f"seeded {rows:,} rows for {users:,} users (heavy user {HEAVY_EMAIL}: {heavy:,} rows) with {workers} "
        f"loaders; search_text checked against searchable_text on {checked} rows\n"
        f"load {loaded:.0f} s ({rows / loaded:,.0f} rows/s), indexes + ANALYZE {built:.0f} s, total {total:.0f} s; "
        f"processing_history {table}, database {database}"
    )


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an existing, empty database (postgresql://...)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--heavy", type=int, default=100_000, help="rows of the heavy user")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2, help="loader processes, each with its own connection")
    args = parser.parse_args()
    if not 0 < args.heavy <= args.rows or args.users < 2:
        parser.error("need 0 < --heavy <= --rows and --users >= 2")
    dsn = args.database_url
    if dsn is None:
        dsn = f"{PG_SERVER}/scribe_histbench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(f'CREATE DATABASE "{dsn.rsplit("/", 1)[1]}"'))
    dsn = dsn.replace("postgresql+asyncpg://", "postgresql://")
    print(f"database: {dsn}", flush=True)
    migrations.upgrade(dsn.replace("postgresql://", "postgresql+asyncpg://"))
    seed(dsn, args.rows, args.users, args.heavy, args.seed, args.workers)
    print(f"bench: .venv/bin/python bench/history_bench.py --database-url {dsn}")


if __name__ == "__main__":
    main()
