"""Single-flight and the result cache across two real API processes (`scribe serve`) sharing PostgreSQL, a
redis-server of the test's own and the fake LLM provider:

- 100 concurrent identical requests, half to each process: one upstream job, 100 answers;
- the leader process killed (SIGKILL) mid-job: the waiting request in the other process takes the job over;
- the redis-server killed mid-run and started again (empty): no 5xx, and the cache works again by itself."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.data import TRANSCRIPT
from tests.fakes.llm_server import Behaviour, FakeLLMServer
from tests.own_services import OwnRedis, free_port
from tests.services import SCRIBE, clean_env, wait_until_serving

pytestmark = pytest.mark.faults

PASSWORD = "violet kettle umbrella 42"
OUTPUTS = ["summary", "topics"]
LEASE_SECONDS = 1.0


@dataclass
class Api:
    process: subprocess.Popen[bytes]
    base: str
    log: Path


@dataclass
class Cluster:
    redis: OwnRedis
    apis: list[Api]
    tokens: list[str]  # access tokens of a few users, valid in both processes

    def headers(self, i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}


def _start_api(tmp_path: Path, index: int, env: dict[str, str]) -> Api:
    port = free_port()
    log = tmp_path / f"api-{index}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [SCRIBE, "serve", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the server and its worker die together
        )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(process, base, log)
    return Api(process, base, log)


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str, llm: FakeLLMServer) -> Iterator[Cluster]:
    redis = OwnRedis()
    apis: list[Api] = []
    env = clean_env(
        SCRIBE_DATABASE_URL=postgres_url,
        SCRIBE_REDIS_URL=redis.url,
        SCRIBE_REDIS_PREFIX=f"scribe-sf-{uuid.uuid4().hex[:8]}:",
        SCRIBE_LOG_FORMAT="json",
        SCRIBE_ARGON2_MEMORY_KIB="1024",
        SCRIBE_ARGON2_TIME_COST="1",
        SCRIBE_REGISTRATIONS_PER_IP="100000",
        SCRIBE_TIER_FREE_REQUESTS_PER_MINUTE="unlimited",  # the load here is about the cache, not the limits
        SCRIBE_TIER_FREE_JOBS_PER_DAY="unlimited",
        SCRIBE_ANTHROPIC_API_KEY="server-anthropic-key",
        SCRIBE_ANTHROPIC_BASE_URL=llm.url,
        SCRIBE_AI_CHAIN="anthropic",
        SCRIBE_AI_TIMEOUT_SECONDS="30",
        SCRIBE_RESULT_CACHE_SECONDS="3600",
        SCRIBE_SINGLE_FLIGHT_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    try:
        redis.start()
        apis = [_start_api(tmp_path, i, env) for i in range(2)]
        tokens = []
        for _ in range(4):
            email = f"sf-{uuid.uuid4().hex[:10]}@example.com"
            body = {"email": email, "password": PASSWORD}
            registered = httpx.post(f"{apis[0].base}/api/v1/auth/register", json=body, timeout=10)
            assert registered.status_code == 201, registered.text
            tokens.append(registered.json()["data"]["access_token"])
        yield Cluster(redis, apis, tokens)
    finally:
        for api in apis:
            if api.process.poll() is None:
                api.process.terminate()
        for api in apis:
            try:
                api.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                api.process.kill()
        redis.kill()


def _body(transcript: str = TRANSCRIPT, **extra: Any) -> dict[str, Any]:
    return {"transcript": transcript, "outputs": OUTPUTS, "language": "en", **extra}


def _generations(llm: FakeLLMServer) -> list[str]:
    return [r.kind for r in llm.requests if r.kind]


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Waits for `condition`, set by the fake provider's own thread."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


def _one_jobs_worth(kinds: list[str]) -> bool:
    """The calls of one job, whether it asks once per output or once for all of them: no kind asked twice."""
    return 1 <= len(kinds) <= len(OUTPUTS) and len(kinds) == len(set(kinds))


def test_100_concurrent_identical_requests_across_two_processes_make_one_upstream_job(
    cluster: Cluster, llm: FakeLLMServer
) -> None:
    llm.default = Behaviour(delay=1.0)  # the job outlasts the arrival of every request

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{cluster.apis[i % 2].base}/api/v1/process", json=_body(), headers=cluster.headers(i))
                    for i in range(100)
                )
            )

    started = time.perf_counter()
    responses = asyncio.run(burst())
    elapsed = time.perf_counter() - started

    assert [r.status_code for r in responses] == [200] * 100, next(r.text for r in responses if r.status_code != 200)
    data = [r.json()["data"] for r in responses]
    assert _one_jobs_worth(_generations(llm)), _generations(llm)
    assert [d["cached"] for d in data].count(False) == 1
    assert len({(d["summary"], d["topics"]) for d in data}) == 1
    assert len({d["history_id"] for d in data}) == 100  # each saved to its caller's history
    print(f"100 requests over 2 processes: {elapsed:.2f}s, {len(_generations(llm))} upstream call(s)")


def test_when_the_leader_process_dies_mid_job_a_waiter_in_the_other_takes_it_over(
    cluster: Cluster, llm: FakeLLMServer
) -> None:
    llm.enqueue(Behaviour(delay=10.0))  # the leader's first call hangs until it is killed
    leader, survivor = cluster.apis

    async def scenario() -> tuple[BaseException | httpx.Response, httpx.Response, float, int]:
        async with httpx.AsyncClient(timeout=30) as client:
            first = asyncio.ensure_future(
                client.post(f"{leader.base}/api/v1/process", json=_body(), headers=cluster.headers(0))
            )
            await _until(lambda: bool(_generations(llm)))  # the leader's job has reached the provider
            second = asyncio.ensure_future(
                client.post(f"{survivor.base}/api/v1/process", json=_body(), headers=cluster.headers(1))
            )
            await asyncio.sleep(0.5)  # the survivor's request is waiting on the leader's lock by now
            calls_before_kill = len(_generations(llm))
            os.killpg(leader.process.pid, signal.SIGKILL)  # granian's main process and its worker, at once
            killed = time.perf_counter()
            answer = await second
            taken_over = time.perf_counter() - killed
            lost = (await asyncio.gather(first, return_exceptions=True))[0]
            return lost, answer, taken_over, calls_before_kill

    lost, answer, taken_over, calls_before_kill = asyncio.run(scenario())

    assert calls_before_kill <= len(OUTPUTS)  # only the leader's job had started: the survivor was waiting
    assert isinstance(lost, httpx.TransportError)  # the killed process's client lost its connection
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["cached"] is False  # the survivor produced it itself
    assert taken_over < LEASE_SECONDS + 5
    print(f"leader killed: the waiter answered {taken_over:.2f}s later")


def test_redis_killed_mid_run_costs_no_5xx_and_the_cache_comes_back_by_itself(
    cluster: Cluster, llm: FakeLLMServer
) -> None:
    statuses: list[int] = []
    variants = [f"{TRANSCRIPT} Variant {n} adds one sentence about leaves." for n in range(4)]

    async def load(seconds: float) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            deadline = time.monotonic() + seconds
            i = 0
            while time.monotonic() < deadline:
                batch = [
                    client.post(
                        f"{cluster.apis[(i + j) % 2].base}/api/v1/process",
                        json=_body(variants[(i + j) % len(variants)]),
                        headers=cluster.headers(i + j),
                    )
                    for j in range(6)
                ]
                statuses.extend(r.status_code for r in await asyncio.gather(*batch))
                i += 1

    asyncio.run(load(2.0))
    cluster.redis.kill()
    asyncio.run(load(3.0))
    cluster.redis.start()  # the same port, empty: nothing cached survives
    asyncio.run(load(2.0))

    assert statuses
    assert all(status == 200 for status in statuses), sorted(set(statuses))

    def cached_after_restart() -> bool:
        fresh = _body(f"{TRANSCRIPT} Asked only after the restart {uuid.uuid4().hex}.")
        first = httpx.post(f"{cluster.apis[0].base}/api/v1/process", json=fresh, headers=cluster.headers(0), timeout=30)
        again = httpx.post(f"{cluster.apis[1].base}/api/v1/process", json=fresh, headers=cluster.headers(1), timeout=30)
        assert (first.status_code, again.status_code) == (200, 200)
        return bool(again.json()["data"]["cached"])

    assert cached_after_restart()  # recovered without a restart of the API processes
    print(f"redis killed and restarted under load: {len(statuses)} requests, all 200")
