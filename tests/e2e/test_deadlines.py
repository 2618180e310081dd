"""Deadlines that hold however slowly an upstream answers: one byte at a time never trips a per-read timeout,
so every provider call has a deadline of its own, and every request a budget over all its calls.

Seen (scaled down 5x): SCRIBE_AI_TIMEOUT_SECONDS=5 against an upstream sending one byte every 2 s held
/api/v1/process, the key check and the prototype route for 180 s; the first three requests each waited."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.data import TRANSCRIPT
from tests.e2e.conftest import Api, ai_settings, bearer, make_client
from tests.fakes.llm_server import Behaviour, FakeLLMServer

TRICKLE = Behaviour(trickle=0.2)  # a byte every 0.2 s: the whole answer would take minutes


@pytest.fixture
def llm(llm: FakeLLMServer) -> FakeLLMServer:
    """The shared fake provider, trickling every answer."""
    llm.default = TRICKLE
    return llm


def _api(sqlite_url: str, llm: FakeLLMServer, **extra: Any) -> Any:
    return make_client(ai_settings(make_settings(database_url=sqlite_url), llm, **extra))


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_trickling_provider_is_cut_off_at_the_timeout_and_then_skipped(sqlite_url: str, llm: FakeLLMServer) -> None:
    with _api(sqlite_url, llm, ai_chain=["anthropic"], ai_timeout_seconds=1.0) as client:
        headers = bearer(Api(client).register()["access_token"])
        body = {"transcript": TRANSCRIPT, "outputs": ["summary"]}
        first, took = _timed(lambda: client.post("/api/v1/process", json=body, headers=headers))
        assert first.status_code == 502, first.text
        assert first.json()["details"] == [{"field": "anthropic", "message": "timeout"}]
        assert took < 2.5
        asked = len(llm.requests)

        second, took = _timed(lambda: client.post("/api/v1/process", json=body, headers=headers))
        assert second.status_code == 503  # the circuit opened on the first timeout: nobody waits for it again
        assert second.json()["code"] == "ai_providers_unavailable"
        assert took < 0.5
        assert len(llm.requests) == asked


def test_the_prototype_route_and_the_key_check_are_cut_off_too(sqlite_url: str, llm: FakeLLMServer) -> None:
    with _api(sqlite_url, llm, ai_chain=["anthropic"], ai_timeout_seconds=1.0) as client:
        prototype, took = _timed(
            lambda: client.post("/api/ai/process-transcript", json={"transcript": TRANSCRIPT, "purpose": "learning"})
        )
        assert prototype.status_code == 502
        assert took < 2.5
        headers = bearer(Api(client).register()["access_token"])
        check, took = _timed(
            lambda: client.put("/api/v1/me/api-keys/openai", json={"api_key": "sk-user-key"}, headers=headers)
        )
        assert check.status_code == 502
        assert check.json()["code"] == "provider_unavailable"
        assert took < 2.5


def test_the_request_budget_bounds_the_whole_chain(sqlite_url: str, llm: FakeLLMServer) -> None:
    """Two providers of 1 s each, a budget of 1.5 s: the second gets what is left, not a timeout of its own."""
    with _api(sqlite_url, llm, ai_timeout_seconds=1.0, ai_request_budget_seconds=1.5) as client:
        headers = bearer(Api(client).register()["access_token"])
        body = {"transcript": TRANSCRIPT, "outputs": ["summary"]}
        response, took = _timed(lambda: client.post("/api/v1/process", json=body, headers=headers))
        assert response.status_code == 502, response.text
        assert response.json()["details"] == [
            {"field": "anthropic", "message": "timeout"},
            {"field": "openai", "message": "out_of_time"},
        ]
        assert 1.4 < took < 2.5
