"""The result cache over HTTP, on the embedded stack and on PostgreSQL + Redis: hit and miss, force_refresh, the
prototype route, other users' answers only for identical inputs, purge (use case and `scribe cache purge`), and a
prompt-version bump across a restart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import redis
from dishka import Provider, Scope, provide

from application.processing.prompts import PROMPT_VERSION
from application.processing.result_cache import PurgeCachedResults, PurgeTarget, ResultCachePolicy
from infrastructure.bootstrap.settings import Settings
from tests import services
from tests.conftest import make_settings
from tests.data import TRANSCRIPT
from tests.e2e.conftest import SERVER_KEYS, Api, ai_settings, make_client
from tests.e2e.test_processing_api import process, signed_in, usage
from tests.fakes.llm_server import Behaviour, FakeLLMServer
from tests.fakes.youtube_server import FakeVideo, FakeYouTube
from tests.services import clean_env, run_scribe

VIDEO = "dQw4w9WgXcQ"
TTL = 3600


def cache_settings(settings: Settings, llm: FakeLLMServer, youtube: FakeYouTube, **extra: Any) -> Settings:
    youtube.videos[VIDEO] = FakeVideo(
        "Photosynthesis",
        "A lecture.",
        captions={"en": [(i * 5.0, 5.0, s) for i, s in enumerate(TRANSCRIPT.split("."))]},
    )
    values = {"result_cache_seconds": TTL, "youtube_base_url": youtube.url, **extra}
    return msgspec.structs.replace(ai_settings(settings, llm), **values)


@pytest.fixture
def ai(settings: Settings, llm: FakeLLMServer, youtube: FakeYouTube) -> Iterator[Api]:
    with make_client(cache_settings(settings, llm, youtube)) as client:
        yield Api(client)


def generations(llm: FakeLLMServer) -> int:
    return len([r for r in llm.requests if r.kind])


def test_a_repeated_request_is_answered_from_the_cache_saved_and_counted_as_cached(ai: Api, llm: FakeLLMServer) -> None:
    headers = signed_in(ai)
    miss = process(ai, headers, outputs=["summary", "topics"], language="en").json()["data"]
    asked = generations(llm)
    hit = process(ai, headers, outputs=["summary", "topics"], language="en").json()["data"]

    assert generations(llm) == asked  # no upstream call
    assert (miss["cached"], hit["cached"]) == (False, True)
    assert (hit["summary"], hit["topics"], hit["served_by"]) == (miss["summary"], miss["topics"], miss["served_by"])
    assert miss["tokens"]["total"] > 0
    assert hit["tokens"] == {"input": 0, "output": 0, "total": 0}
    assert hit["cost_usd"] == 0
    assert {a["payer"] for a in hit["attribution"].values()} == {"none"}
    assert hit["history_id"] != miss["history_id"]
    cached_rows = ai.client.get("/api/v1/history", params={"cached": "true"}, headers=headers).json()["data"]
    assert [item["id"] for item in cached_rows["items"]] == [hit["history_id"]]
    counted = usage(ai, headers)
    assert counted["usage_count"] == 2
    assert counted["tokens_in"] == miss["tokens"]["input"]  # the cached job added no tokens
    assert counted["tokens_out"] == miss["tokens"]["output"]


def test_force_refresh_asks_the_provider_again_and_the_next_request_gets_the_new_answer(
    ai: Api, llm: FakeLLMServer
) -> None:
    headers = signed_in(ai)
    process(ai, headers, outputs=["summary"], language="en")
    asked = generations(llm)

    forced = process(ai, headers, outputs=["summary"], language="en", force_refresh=True).json()["data"]
    again = process(ai, headers, outputs=["summary"], language="en").json()["data"]

    assert generations(llm) == asked + 1
    assert (forced["cached"], again["cached"]) == (False, True)


def test_the_prototype_route_says_cached_in_a_header_and_keeps_its_body(ai: Api, llm: FakeLLMServer) -> None:
    body = {"transcript": TRANSCRIPT, "purpose": "learning", "language": "en"}
    miss = ai.client.post("/api/ai/process-transcript", json=body)
    hit = ai.client.post("/api/ai/process-transcript", json=body)

    assert (miss.headers["X-Scribe-Cached"], hit.headers["X-Scribe-Cached"]) == ("false", "true")
    assert set(hit.json()["data"]) == {"summary", "topics", "mindMap"}
    assert hit.json()["data"] == miss.json()["data"]
    assert generations(llm) == 1  # summary, topics and mind map: one call, once


@pytest.mark.parametrize(
    "change",
    [
        {"language": "pl"},
        {"transcript": TRANSCRIPT + " And a last word on chlorophyll."},
        {"outputs": ["summary", "topics"]},
        {"outputs": ["custom"], "custom_prompt": "List the gases"},
        {"provider": "openai"},
    ],
)
def test_another_users_answer_is_served_only_for_identical_inputs(
    ai: Api, llm: FakeLLMServer, change: dict[str, Any]
) -> None:
    ada, bob = signed_in(ai), signed_in(ai)
    adas = {"outputs": ["summary"], "language": "en"}
    process(ai, ada, **adas)

    different = process(ai, bob, **{**adas, **change}).json()["data"]
    same = process(ai, bob, **adas).json()["data"]

    assert different["cached"] is False
    assert same["cached"] is True


def test_purging_by_video_and_by_user(ai: Api, llm: FakeLLMServer) -> None:
    ada_tokens = ai.register()
    ada = {"Authorization": f"Bearer {ada_tokens['access_token']}"}
    bob = signed_in(ai)
    video = {"url": f"https://youtu.be/{VIDEO}", "transcript": None, "outputs": ["summary"], "language": "en"}
    text = {"outputs": ["summary"], "language": "pl"}
    assert process(ai, bob, **video).json()["data"]["cached"] is False
    assert process(ai, ada, **text).json()["data"]["cached"] is False

    assert ai.use_case(PurgeCachedResults, PurgeTarget(video_id=VIDEO)) == 1
    assert process(ai, ada, **video).json()["data"]["cached"] is False
    assert process(ai, bob, **text).json()["data"]["cached"] is True

    assert ai.use_case(PurgeCachedResults, PurgeTarget(email=ada_tokens["user"]["email"])) == 2  # both hers now
    assert process(ai, bob, **text).json()["data"]["cached"] is False


@pytest.fixture
def shared(postgres_url: str, redis_url: str, llm: FakeLLMServer, youtube: FakeYouTube) -> Settings:
    """PostgreSQL + Redis settings whose cache outlives one app: what several processes and restarts share."""
    base = make_settings(
        database_url=postgres_url,
        redis_url=redis_url,
        redis_prefix=f"scribe-test-{services.RUN_ID}:{uuid.uuid4().hex}:",
    )
    return cache_settings(base, llm, youtube)


class BumpedPrompts(Provider):
    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> ResultCachePolicy:
        return ResultCachePolicy(settings.result_cache_seconds, prompt_version=PROMPT_VERSION + 1)


def test_a_prompt_version_bump_stops_serving_the_answers_cached_before_it(shared: Settings, llm: FakeLLMServer) -> None:
    def ask(*providers: Provider) -> bool:
        with make_client(shared, *providers) as client:
            api = Api(client)
            cached: bool = process(api, signed_in(api), outputs=["summary"], language="en").json()["data"]["cached"]
            return cached

    assert ask() is False
    assert ask() is True  # another process (a restart) reads the same cache
    assert ask(BumpedPrompts()) is False


def test_scribe_cache_purge_drops_a_videos_answers_for_every_process(shared: Settings, llm: FakeLLMServer) -> None:
    env = clean_env(
        SCRIBE_DATABASE_URL=shared.database_url,
        SCRIBE_REDIS_URL=str(shared.redis_url),
        SCRIBE_REDIS_PREFIX=shared.redis_prefix,
    )
    with make_client(shared) as client:
        api = Api(client)
        headers = signed_in(api)
        video = {"url": f"https://youtu.be/{VIDEO}", "transcript": None, "outputs": ["summary"], "language": "en"}
        process(api, headers, **video)
        assert process(api, headers, **video).json()["data"]["cached"] is True

        purged = run_scribe("cache", "purge", "--video", VIDEO, env=env)
        assert purged.returncode == 0, purged.stderr
        assert "purged 1 cached answer" in purged.stdout
        assert process(api, headers, **video).json()["data"]["cached"] is False

    unknown = run_scribe("cache", "purge", "--user", "nobody@example.com", env=env)
    assert unknown.returncode == 1
    assert "User not found" in unknown.stderr
    assert run_scribe("cache", "purge", env=env).returncode == 2  # neither --video nor --user


def test_a_hit_is_much_faster_than_a_miss(ai: Api, llm: FakeLLMServer) -> None:
    llm.default = Behaviour(delay=0.3)
    headers = signed_in(ai)
    started = time.perf_counter()
    process(ai, headers, outputs=["summary"], language="en")
    miss = time.perf_counter() - started
    started = time.perf_counter()
    process(ai, headers, outputs=["summary"], language="en")
    hit = time.perf_counter() - started
    assert hit < miss / 2


def test_a_users_own_key_is_never_part_of_a_cached_entry(shared: Settings, llm: FakeLLMServer, redis_url: str) -> None:
    secret = "sk-ada-own-key-123456"
    with make_client(shared) as client:
        api = Api(client)
        ada, bob = signed_in(api), signed_in(api)
        stored = api.client.put("/api/v1/me/api-keys/openai", json={"api_key": secret}, headers=ada)
        assert stored.status_code == 200, stored.text
        own = process(api, ada, outputs=["summary"], language="en").json()["data"]
        servers = process(api, bob, outputs=["summary"], language="en").json()["data"]
        assert own["served_by"] == {"summary": "openai/gpt-4.1-mini"}  # Ada's chain starts with her key
        assert servers["cached"] is False  # Bob's chain is another: another answer

    store = redis.Redis.from_url(redis_url)
    try:
        names = list(store.scan_iter(match=f"{shared.redis_prefix}results:*"))
        assert any(b":entry:" in name for name in names)
        for name in names:
            kind = store.type(name)
            if kind == b"string":
                content = store.get(name) or b""
            elif kind == b"set":
                content = b" ".join(store.smembers(name))  # type: ignore[arg-type]
            else:
                content = b" ".join(member for member, _ in store.zrange(name, 0, -1, withscores=True))  # type: ignore[misc]
            assert secret.encode() not in name + content
    finally:
        store.close()


def test_the_server_warms_a_popular_answer_before_it_expires(
    settings: Settings, llm: FakeLLMServer, youtube: FakeYouTube
) -> None:
    # Answers live 3 s; every second, those expiring within 2 s are produced again on the server's key.
    warming = cache_settings(settings, llm, youtube, result_cache_seconds=3, cache_warm_interval_seconds=1.0)
    with make_client(warming) as client:
        api = Api(client)
        headers = signed_in(api)
        assert process(api, headers, outputs=["summary"], language="en").json()["data"]["cached"] is False
        time.sleep(4.5)  # longer than the answer's own lifetime
        later = process(api, headers, outputs=["summary"], language="en").json()["data"]

    assert later["cached"] is True
    recomputed = [r for r in llm.requests if r.kind][1:]
    assert recomputed
    assert {r.api_key for r in recomputed} == {SERVER_KEYS["anthropic"]}
