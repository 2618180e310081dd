"""Processing over HTTP, with the real anthropic/openai SDKs talking to a fake provider on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from application.processing.prompts import TASKS
from infrastructure.bootstrap.settings import Settings
from infrastructure.persistence.models import ProcessingHistoryRow, UsageEventRow
from tests.data import TRANSCRIPT
from tests.e2e.conftest import SERVER_KEYS, Api, ai_settings, bearer, make_client
from tests.fakes.llm_server import Behaviour, FakeLLMServer


@pytest.fixture
def ai(settings: Settings, llm: FakeLLMServer) -> Iterator[Api]:
    with make_client(ai_settings(settings, llm)) as client:
        yield Api(client)


def signed_in(api: Api) -> dict[str, str]:
    return bearer(api.register()["access_token"])


def process(api: Api, headers: dict[str, str], **body: Any) -> Any:
    return api.client.post("/api/v1/process", json={"transcript": TRANSCRIPT, **body}, headers=headers)


def rows(api: Api, model: Any, user_id: str) -> list[Any]:
    async def read() -> list[Any]:
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

        factory = await api.client.app.state.dishka_container.get(async_sessionmaker[AsyncSession])
        async with factory() as session:
            return list((await session.scalars(select(model).where(model.user_id == user_id))).all())

    return api.client.blocking_portal.call(read)  # type: ignore[no-any-return]


def usage(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    return api.client.get("/api/v1/me/usage", headers=headers).json()["data"]  # type: ignore[no-any-return]


def me(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    return api.client.get("/api/v1/auth/profile", headers=headers).json()["data"]  # type: ignore[no-any-return]


def billed(provider: str, usage: dict[str, Any]) -> float:
    """What a call costs at the default list prices (claude-sonnet-4-6, gpt-4.1-mini), by the usage the provider
    reported: Anthropic bills cache reads at 0.1 and writes at 1.25 times the input price, OpenAI cached input at
    half of it."""
    if provider == "anthropic":
        read, written = usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]
        return ((usage["input_tokens"] + 0.1 * read + 1.25 * written) * 3.0 + usage["output_tokens"] * 15.0) / 1e6
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    return ((usage["prompt_tokens"] - cached + 0.5 * cached) * 0.4 + usage["completion_tokens"] * 1.6) / 1e6


_KIND_OF = {"summary": "summary", "topics": "topics", "mindMap": "mind_map", "socialPost": "social_post"}
_KIND_OF["customOutput"] = "custom"


@pytest.mark.parametrize("language", ["pl", "en"])
@pytest.mark.parametrize(
    ("purpose", "extra", "keys"),
    [
        ("learning", {}, {"summary", "topics", "mindMap"}),
        ("social_media", {}, {"summary", "topics", "socialPost"}),
        ("custom", {"customPrompt": "List the three main claims"}, {"summary", "topics", "customOutput"}),
        ("custom", {}, {"summary", "topics"}),
    ],
)
def test_the_prototype_contract_for_every_purpose_and_language(
    ai: Api, llm: FakeLLMServer, purpose: str, extra: dict[str, str], keys: set[str], language: str
) -> None:
    body = {"transcript": TRANSCRIPT, "purpose": purpose, "language": language, **extra}
    response = ai.client.post("/api/ai/process-transcript", json=body)  # anonymous, as the prototype's frontend

    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["success"] is True
    assert set(payload["data"]) == keys
    data = payload["data"]
    assert data["topics"].startswith("Key topics:\n- ")
    assert 100 <= len(data["summary"].split()) <= 200
    if "mindMap" in data:
        graph = data["mindMap"]
        assert set(graph) == {"nodes", "edges"}
        assert graph["nodes"][0]["id"] == "root-1"
        assert {n["type"] for n in graph["nodes"]} == {"custom"}
        assert all(e["type"] == "smoothstep" for e in graph["edges"])
    if "socialPost" in data:
        post, _, tags = data["socialPost"].rpartition("\n\n")
        assert 800 <= len(post) <= 1200
        assert tags.startswith("#")
    [asked] = [r for r in llm.requests if r.kind]  # one call for every output, and no re-ask
    assert asked.provider == "anthropic"
    assert sorted(asked.kinds) == sorted(_KIND_OF[key] for key in keys)
    assert f"language code: {language}" in asked.prompt
    assert asked.api_key == SERVER_KEYS["anthropic"]
    polish_word = "Film" if language == "pl" else "The video"
    assert data["summary"].startswith(polish_word)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"transcript", "purpose"}),
        ({"transcript": "", "purpose": "learning"}, {"transcript"}),
        ({"transcript": "x", "purpose": "poetry"}, {"purpose"}),
        ({"transcript": "x", "purpose": "learning", "language": "de"}, {"language"}),
        ({"transcript": "x", "purpose": "learning", "model": "gpt-4"}, {"model"}),
        ({"transcript": 42, "purpose": "learning"}, {"transcript"}),
    ],
)
def test_the_prototype_route_lists_every_bad_field(ai: Api, body: dict[str, Any], fields: set[str]) -> None:
    response = ai.client.post("/api/ai/process-transcript", json=body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["success"] is False
    assert payload["code"] == "validation_error"
    assert {d["field"] for d in payload["details"]} == fields


def test_the_prototype_model_names_choose_the_configured_gemini_model(settings: Settings, llm: FakeLLMServer) -> None:
    gemini = {"gemini_api_key": SERVER_KEYS["gemini"], "gemini_base_url": f"{llm.url}/v1beta/openai/"}
    with make_client(ai_settings(settings, llm, **gemini)) as client:
        body = {"transcript": TRANSCRIPT, "purpose": "learning", "model": "gemini-2.5-pro"}
        assert client.post("/api/ai/process-transcript", json=body).status_code == 200
    asked = [r for r in llm.requests if r.kind]
    assert {r.path for r in asked} == {"/v1beta/openai/chat/completions"}
    assert {r.body["model"] for r in asked} == {"gemini-2.5-pro"}
    assert {r.api_key for r in asked} == {SERVER_KEYS["gemini"]}


def test_without_a_gemini_key_the_prototype_model_falls_to_the_default_chain(ai: Api, llm: FakeLLMServer) -> None:
    body = {"transcript": TRANSCRIPT, "purpose": "learning", "model": "gemini-2.5-flash-lite"}
    assert ai.client.post("/api/ai/process-transcript", json=body).status_code == 200
    assert {r.provider for r in llm.requests if r.kind} == {"anthropic"}


def test_v1_process_reports_what_ran_and_saves_it_once(ai: Api) -> None:
    headers = signed_in(ai)
    response = process(ai, headers, outputs=["summary", "topics", "mind_map"], language="en")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["provider"], data["model"]) == ("anthropic", "claude-sonnet-4-6")
    assert data["cached"] is False
    assert data["fallbacks"] == []
    assert data["tokens"]["input"] > 0
    assert data["tokens"]["total"] == data["tokens"]["input"] + data["tokens"]["output"]
    assert data["cost_usd"] > 0
    assert data["duration_ms"] >= 0
    assert data["transcript"]["source"] == "text"
    assert len(data["transcript"]["transcript_hash"]) == 64
    user = me(ai, headers)
    assert usage(ai, headers)["usage_count"] == 1
    [entry] = rows(ai, ProcessingHistoryRow, user["id"])
    assert str(entry.id) == data["history_id"]
    assert entry.summary == data["summary"]
    assert entry.mind_map == data["mind_map"]
    assert (entry.provider, entry.language, entry.purpose) == ("anthropic", "en", "learning")
    assert entry.tokens_in == data["tokens"]["input"]
    assert float(entry.cost_usd) == pytest.approx(data["cost_usd"])
    [event] = rows(ai, UsageEventRow, user["id"])
    assert event.kind == "process"
    assert event.tokens_out == data["tokens"]["output"]


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (Behaviour(status=500), "unavailable"),
        (Behaviour(status=529), "unavailable"),
        (Behaviour(status=429, retry_after=30), "rate_limited"),
        (Behaviour(delay=4.0), "timeout"),
        (Behaviour(drop=True), "connection"),
    ],
)
def test_each_upstream_failure_falls_back_to_the_next_provider(
    ai: Api, llm: FakeLLMServer, behaviour: Behaviour, reason: str
) -> None:
    llm.enqueue(behaviour, provider="anthropic")
    response = process(ai, signed_in(ai), outputs=["summary"])

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["served_by"] == {"summary": "openai/gpt-4.1-mini"}
    assert data["fallbacks"] == [
        {"output": "summary", "provider": "anthropic", "model": "claude-sonnet-4-6", "reason": reason}
    ]
    providers = {
        p["name"]: p for p in ai.client.get("/api/v1/providers", headers=signed_in(ai)).json()["data"]["providers"]
    }
    assert providers["anthropic"]["errors"] == 1
    assert providers["anthropic"]["fallbacks"] == 1
    assert providers["openai"]["calls"] == 1
    assert providers["openai"]["latency"]["p50_ms"] is not None


def test_retry_after_keeps_the_provider_aside_until_then(ai: Api, llm: FakeLLMServer) -> None:
    headers = signed_in(ai)
    llm.enqueue(Behaviour(status=429, retry_after=30), provider="anthropic")
    process(ai, headers, outputs=["summary"])
    llm.clear()

    data = process(ai, headers, outputs=["summary"]).json()["data"]
    assert data["fallbacks"][0]["reason"] == "cooling_down"
    assert not [r for r in llm.requests if r.provider == "anthropic"]  # not even tried


def test_an_invalid_answer_is_asked_again_with_the_reason(ai: Api, llm: FakeLLMServer) -> None:
    llm.enqueue(Behaviour(answers={"summary": {"summary": "Much too short."}}), provider="anthropic", kind="summary")
    response = process(ai, signed_in(ai), outputs=["summary"])

    assert response.json()["data"]["served_by"] == {"summary": "anthropic/claude-sonnet-4-6"}
    first, second = [r for r in llm.requests if r.kind == "summary"]
    assert "rejected" not in first.prompt
    assert "It was rejected:\n- `summary`: The summary has 3 words" in second.prompt


def test_only_the_invalid_outputs_are_asked_again_together_then_moved_on(ai: Api, llm: FakeLLMServer) -> None:
    """One call for all three; the topics and the mind map come back invalid and are asked again in one call; the
    mind map, invalid again, goes on to the next provider alone."""
    no_topics = {"topics": []}
    only_a_root = {"nodes": [{"id": "r", "label": "Only a root", "parent": None, "timestamp": None}]}
    llm.enqueue(Behaviour(answers={"topics": no_topics, "mind_map": only_a_root}), "anthropic", "mind_map")
    llm.enqueue(Behaviour(answers={"mind_map": only_a_root}), "anthropic", "mind_map")
    data = process(ai, signed_in(ai), purpose="learning", language="en").json()["data"]

    assert data["served_by"] == {
        "summary": "anthropic/claude-sonnet-4-6",
        "topics": "anthropic/claude-sonnet-4-6",
        "mind_map": "openai/gpt-4.1-mini",
    }
    assert data["fallbacks"] == [
        {"output": "mind_map", "provider": "anthropic", "model": "claude-sonnet-4-6", "reason": "invalid_output"}
    ]
    first, again, fallback = [r for r in llm.requests if r.kind]
    assert (first.provider, again.provider, fallback.provider) == ("anthropic", "anthropic", "openai")
    assert all(f"`{kind}`: {TASKS[kind]}" in first.prompt for kind in ("summary", "topics", "mind_map"))
    assert "It was rejected" not in first.prompt
    assert f"`summary`: {TASKS['summary']}" not in again.prompt  # the valid summary is not asked again
    assert all(f"`{kind}`: {TASKS[kind]}" in again.prompt for kind in ("topics", "mind_map"))
    assert "Set `summary` to null" in again.prompt
    assert "It was rejected:\n- `topics`: " in again.prompt
    assert "\n- `mind_map`: " in again.prompt
    assert f"`mind_map`: {TASKS['mind_map']}" in fallback.prompt
    assert f"`topics`: {TASKS['topics']}" not in fallback.prompt
    assert "Set `summary`, `topics` to null" in fallback.prompt


def test_malformed_json_twice_moves_every_output_on_to_the_next_provider(ai: Api, llm: FakeLLMServer) -> None:
    llm.enqueue(Behaviour(malformed=True), provider="anthropic", times=2)
    data = process(ai, signed_in(ai), outputs=["summary", "topics"]).json()["data"]
    assert data["served_by"] == {"summary": "openai/gpt-4.1-mini", "topics": "openai/gpt-4.1-mini"}
    assert [(f["output"], f["reason"]) for f in data["fallbacks"]] == [
        ("summary", "invalid_output"),
        ("topics", "invalid_output"),
    ]
    assert [r.provider for r in llm.requests if r.kind] == ["anthropic", "anthropic", "openai"]


def test_when_every_provider_fails_the_error_names_them_and_nothing_is_kept(ai: Api, llm: FakeLLMServer) -> None:
    headers = signed_in(ai)
    llm.enqueue(Behaviour(status=500), provider="anthropic", times=10)
    llm.enqueue(Behaviour(status=503), provider="openai", times=10)
    response = process(ai, headers, outputs=["summary", "topics", "mind_map"])

    assert response.status_code == 502
    payload = response.json()
    assert payload["success"] is False
    assert payload["code"] == "ai_providers_failed"
    assert "anthropic (unavailable)" in payload["error"]
    assert "openai (unavailable)" in payload["error"]
    user = me(ai, headers)
    assert usage(ai, headers)["usage_count"] == 0
    assert rows(ai, ProcessingHistoryRow, user["id"]) == []
    assert rows(ai, UsageEventRow, user["id"]) == []


def test_when_every_provider_is_rate_limited_the_answer_is_503_with_retry_after(ai: Api, llm: FakeLLMServer) -> None:
    llm.enqueue(Behaviour(status=429, retry_after=12), provider="anthropic")
    llm.enqueue(Behaviour(status=429, retry_after=20), provider="openai")
    response = process(ai, signed_in(ai), outputs=["summary"])
    assert response.status_code == 503
    assert response.json()["code"] == "ai_providers_unavailable"
    assert response.headers["retry-after"] == "12"


def test_a_stored_user_key_pays_for_that_user_only(ai: Api, llm: FakeLLMServer) -> None:
    ada, bob = signed_in(ai), signed_in(ai)
    stored = ai.client.put("/api/v1/me/api-keys/openai", json={"api_key": "sk-ada-own-key-123456"}, headers=ada)
    assert stored.status_code == 200, stored.text
    assert [r.api_key for r in llm.requests if r.kind is None] == ["sk-ada-own-key-123456"]  # checked upstream first
    llm.clear()

    data = process(ai, ada, outputs=["summary"]).json()["data"]
    assert data["served_by"] == {"summary": "openai/gpt-4.1-mini"}  # the user's own provider comes first
    assert [r.api_key for r in llm.requests] == ["sk-ada-own-key-123456"]
    llm.clear()

    data = process(ai, bob, outputs=["summary"]).json()["data"]
    assert data["served_by"] == {"summary": "anthropic/claude-sonnet-4-6"}
    assert [r.api_key for r in llm.requests] == [SERVER_KEYS["anthropic"]]


def test_a_key_the_provider_rejects_is_not_stored(ai: Api, llm: FakeLLMServer) -> None:
    headers = signed_in(ai)
    llm.accepted_keys = {SERVER_KEYS["anthropic"], SERVER_KEYS["openai"]}
    response = ai.client.put("/api/v1/me/api-keys/anthropic", json={"api_key": "sk-ant-wrong-000000"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "provider_key_rejected"
    assert "sk-ant-wrong" not in response.text
    assert ai.client.get("/api/v1/me/api-keys", headers=headers).json()["data"]["items"] == []


def test_asking_for_a_provider_without_a_key_is_a_clear_400(ai: Api) -> None:
    response = process(ai, signed_in(ai), provider="gemini")
    assert response.status_code == 400
    [detail] = response.json()["details"]
    assert detail["field"] == "provider"
    assert "/api/v1/me/api-keys/gemini" in detail["message"]


def test_v1_process_needs_a_token_with_write_scope(ai: Api) -> None:
    assert process(ai, {}).status_code == 401
    headers = signed_in(ai)
    token = ai.client.post("/api/v1/me/tokens", json={"name": "ro", "scopes": ["read"]}, headers=headers).json()
    assert process(ai, bearer(token["data"]["token"])).status_code == 403


def test_the_provider_comparison_lists_every_provider(ai: Api) -> None:
    response = ai.client.get("/api/v1/providers", headers=signed_in(ai))
    assert response.status_code == 200
    data = response.json()["data"]
    names = [p["name"] for p in data["providers"]]
    assert names == ["anthropic", "openai", "gemini", "local"]
    anthropic = data["providers"][0]
    assert anthropic["server_key"]
    assert anthropic["in_default_chain"]
    assert not anthropic["your_key"]
    assert anthropic["prices_per_million_tokens"]["claude-sonnet-4-6"] == [3.0, 15.0]
    assert data["window_seconds"] == 3600


def test_long_transcripts_are_mapped_and_reduced_through_the_real_sdk(settings: Settings, llm: FakeLLMServer) -> None:
    srt = "\n\n".join(
        f"{i + 1}\n00:{i // 6:02d}:{i % 6 * 10:02d},000 --> 00:{i // 6:02d}:{i % 6 * 10 + 9:02d},000\n"
        f"In part {i} the speaker explains another detail of how photosynthesis stores energy."
        for i in range(300)
    )
    # Dozens of calls: a generous timeout, so a loaded machine cannot turn this into a timeout test.
    small = ai_settings(
        settings, llm, anthropic_context_tokens=4000, ai_max_output_tokens=1000, ai_timeout_seconds=15.0
    )
    with make_client(small) as client:
        api = Api(client)
        response = process(api, signed_in(api), transcript=srt, outputs=["summary", "topics"], language="en")
    assert response.status_code == 200, response.text
    notes = [r for r in llm.requests if r.kind == "chunk_notes"]
    assert len(notes) >= 3
    assert all(r.body["model"] == "claude-sonnet-4-6" for r in notes)
    assert any("[00:00]" in r.prompt for r in notes)  # the map calls run concurrently: any order
    topics = response.json()["data"]["key_topics"]
    assert any(t["timestamp"] is not None for t in topics)


def test_a_preferred_provider_set_on_the_profile_is_tried_first(ai: Api, llm: FakeLLMServer) -> None:
    headers = signed_in(ai)
    changed = ai.client.patch("/api/v1/auth/profile", json={"preferred_provider": "openai"}, headers=headers)
    assert changed.status_code == 200
    assert changed.json()["data"]["preferred_provider"] == "openai"
    assert process(ai, headers, outputs=["summary"]).json()["data"]["provider"] == "openai"

    refused = ai.client.patch("/api/v1/auth/profile", json={"preferred_provider": "skynet"}, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["details"][0]["field"] == "preferred_provider"
    cleared = ai.client.patch("/api/v1/auth/profile", json={"preferred_provider": None}, headers=headers)
    assert cleared.json()["data"]["preferred_provider"] is None


@pytest.mark.parametrize(
    ("provider", "raw"),
    [
        ("openai", {"choices": [{"message": None}]}),
        ("openai", [1, 2, 3]),
        ("openai", {"choices": []}),
        ("anthropic", {"type": "message", "content": None, "usage": {"input_tokens": 1, "output_tokens": 1}}),
        ("anthropic", {"type": "message", "content": [{"type": "text", "text": None}]}),
    ],
)
def test_a_response_that_is_not_what_the_api_promises_falls_back(
    settings: Settings, llm: FakeLLMServer, provider: str, raw: Any
) -> None:
    order = ["openai", "anthropic"] if provider == "openai" else ["anthropic", "openai"]
    with make_client(ai_settings(settings, llm, ai_chain=order)) as client:
        api = Api(client)
        llm.enqueue(Behaviour(raw_body=raw), provider=provider)  # type: ignore[arg-type]
        response = process(api, signed_in(api), outputs=["summary"])
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["fallbacks"][0]["provider"] == provider
    assert data["provider"] == order[1]


def test_null_token_counts_cost_nothing_instead_of_failing(ai: Api, llm: FakeLLMServer) -> None:
    llm.enqueue(Behaviour(input_tokens=None, output_tokens=None), provider="anthropic")
    assert process(ai, signed_in(ai), outputs=["summary"]).status_code == 200


def test_awkward_transcripts_get_a_clear_answer_never_a_500(ai: Api) -> None:
    headers = signed_in(ai)
    nul = process(ai, headers, transcript="Bees\x00 live in the city. " * 30, outputs=["summary"])
    assert nul.status_code == 200, nul.text  # stored on PostgreSQL too: the NUL is gone
    assert "\x00" not in nul.json()["data"]["summary"]

    tiny = process(ai, headers, transcript="🐝 🐝 🐝 ... !!!", outputs=["summary"])
    assert tiny.status_code == 400
    assert tiny.json()["details"][0]["field"] == "transcript"

    far = "1\n" + "9" * 400 + ":00:00,000 --> " + "9" * 400 + ":00:01,000\nNo such time.\n\n"
    srt = far + "\n\n".join(
        f"{i + 2}\n00:00:{i:02d},000 --> 00:00:{i + 1:02d},000\nLeaves turn light into sugar, said teacher {i}."
        for i in range(30)
    )
    timed = process(ai, headers, transcript=srt, outputs=["topics"])
    assert timed.status_code == 200, timed.text


def test_a_read_only_token_may_read_transcripts_but_not_process(ai: Api) -> None:
    headers = signed_in(ai)
    token = ai.client.post("/api/v1/me/tokens", json={"name": "ro", "scopes": ["read"]}, headers=headers).json()
    read_only = bearer(token["data"]["token"])
    bad_language = ai.client.get(
        "/api/v1/transcripts", params={"url": "https://youtu.be/dQw4w9WgXcQ", "language": "english"}, headers=read_only
    )
    assert bad_language.status_code == 400  # past the scope check: the language is what is wrong
    assert bad_language.json()["details"] == [
        {"field": "language", "message": "must be a two-letter ISO 639-1 language code"}
    ]
    assert process(ai, read_only).status_code == 403


def test_a_model_without_a_usable_key_names_the_model_field(ai: Api) -> None:
    response = process(ai, signed_in(ai), model="gemini-2.5-pro")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "model"


@pytest.mark.parametrize("language", ["pl", "en"])
@pytest.mark.parametrize("purpose", ["learning", "social_media", "custom"])
def test_every_purpose_is_served_by_the_first_provider_without_a_re_ask(
    ai: Api, llm: FakeLLMServer, purpose: str, language: str
) -> None:
    """Against a provider as strict as the real ones, with no `local` in the chain to hide a refusal."""
    extra = {"custom_prompt": "List the three main claims"} if purpose == "custom" else {}
    response = process(ai, signed_in(ai), purpose=purpose, language=language, **extra)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data["served_by"].values()) == {"anthropic/claude-sonnet-4-6"}
    assert data["fallbacks"] == []
    [asked] = [r for r in llm.requests if r.kind]
    assert sorted(asked.kinds) == sorted(data["served_by"])
    assert "It was rejected" not in asked.prompt


def test_a_20k_word_transcript_on_an_8k_model_is_mapped_and_reduced_on_that_model(
    settings: Settings, llm: FakeLLMServer
) -> None:
    lecture = " ".join(
        f"In part {i} the lecturer explains how plants turn light, water and carbon dioxide into sugar."
        for i in range(1300)
    )
    assert len(lecture.split()) >= 20_000
    with make_client(ai_settings(settings, llm, anthropic_context_tokens=8000, ai_timeout_seconds=15.0)) as client:
        api = Api(client)
        response = process(api, signed_in(api), transcript=lecture, purpose="learning", language="en")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data["served_by"].values()) == {"anthropic/claude-sonnet-4-6"}
    asked = [r for r in llm.requests if r.kind]
    assert {r.provider for r in asked} == {"anthropic"}
    assert len([r for r in asked if r.kind == "chunk_notes"]) >= 5
    assert all(len(r.prompt) // 3 < 8000 for r in asked)  # every call fits the model's context


def test_a_mixed_fallback_says_per_output_who_served_who_paid_and_what_it_cost(ai: Api, llm: FakeLLMServer) -> None:
    """The user's own OpenAI key first, the server's Anthropic key next. One call asks OpenAI for all three outputs;
    the topics and mind map are invalid and asked again in one call; the mind map, invalid again, goes to Anthropic
    alone. Each call is counted once: the two shared calls in `combined_calls`, the mind map's own on its attempt."""
    headers = signed_in(ai)
    stored = ai.client.put("/api/v1/me/api-keys/openai", json={"api_key": "sk-ada-own-key-123456"}, headers=headers)
    assert stored.status_code == 200, stored.text
    llm.clear()
    llm.default = Behaviour(input_tokens=1000, output_tokens=100)
    too_small = {"nodes": [{"id": "r", "label": "Only a root", "parent": None, "timestamp": None}]}
    first = Behaviour(answers={"topics": {"topics": []}, "mind_map": too_small}, input_tokens=1000, output_tokens=100)
    llm.enqueue(first, "openai", "mind_map")
    llm.enqueue(Behaviour(answers={"mind_map": too_small}, input_tokens=1000, output_tokens=100), "openai", "mind_map")

    response = process(ai, headers, purpose="learning", language="en")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    by_output = data["attribution"]
    assert {k: (v["provider"], v["payer"]) for k, v in by_output.items()} == {
        "summary": ("openai", "user_key"),
        "topics": ("openai", "user_key"),
        "mind_map": ("anthropic", "server_key"),
    }
    attempts = {
        k: [(a["provider"], a["outcome"], a["calls"], a["shared_calls"]) for a in v["attempts"]]
        for k, v in by_output.items()
    }
    assert attempts == {
        "summary": [("openai", "served", 0, 1)],
        "topics": [("openai", "served", 0, 2)],
        "mind_map": [("openai", "invalid_output", 0, 2), ("anthropic", "served", 1, 0)],
    }
    [combined] = data["combined_calls"]
    assert (combined["provider"], combined["payer"], combined["outcome"]) == ("openai", "user_key", "served")
    assert (combined["calls"], combined["outputs"]) == (2, ["summary", "topics", "mind_map"])
    gpt_first, gpt_again, claude = [usage for _, usage in llm.usages]
    cached = gpt_again["prompt_tokens_details"]["cached_tokens"]  # the re-ask read the source from OpenAI's cache
    assert cached > 0
    assert gpt_first["prompt_tokens_details"]["cached_tokens"] == 0
    assert combined["tokens"] == {"input": 2000, "output": 200, "total": 2200, "cached": cached}
    assert by_output["mind_map"]["tokens"] == {"input": 1000, "output": 100, "total": 1100}
    assert by_output["summary"]["tokens"]["total"] == 0  # its only call is the shared one, counted there
    assert data["fallbacks"] == [
        {"output": "mind_map", "provider": "openai", "model": "gpt-4.1-mini", "reason": "invalid_output"}
    ]
    assert len([r for r in llm.requests if r.kind]) == 3
    assert data["tokens"] == {"input": 3000, "output": 300, "total": 3300, "cached": cached}
    assert data["cost_usd"] == pytest.approx(
        billed("openai", gpt_first) + billed("openai", gpt_again) + billed("anthropic", claude)
    )
    counted = [*by_output.values(), *data["combined_calls"], *data["map_step"]]
    assert sum(v["cost_usd"] for v in counted) == pytest.approx(data["cost_usd"])

    user = me(ai, headers)
    [entry] = rows(ai, ProcessingHistoryRow, user["id"])
    assert entry.attribution["outputs"][2]["attempts"][0]["shared_calls"] == 2
    assert (entry.tokens_in, entry.tokens_out) == (3000, 300)
    events = {(e.provider, e.payer): (e.tokens_in, e.tokens_out) for e in rows(ai, UsageEventRow, user["id"])}
    assert events == {("openai", "user_key"): (2000, 200), ("anthropic", "server_key"): (1000, 100)}
    totals = usage(ai, headers)
    assert totals["usage_count"] == 1  # one job, two events
    assert totals["by_payer"]["user_key"]["tokens_in"] == 2000
    assert totals["by_payer"]["server_key"]["cost_usd"] == pytest.approx(billed("anthropic", claude))
    history = ai.client.get(f"/api/v1/history/{entry.id}", headers=headers).json()["data"]
    assert history["combined_calls"] == data["combined_calls"]


def test_calls_cancelled_when_a_sibling_part_fails_are_still_counted(settings: Settings, llm: FakeLLMServer) -> None:
    """A long transcript's map step on Anthropic: one part fails at once, the others are in flight and get
    cancelled. The provider may bill what they sent, so their input is counted (estimated) under `map_step`."""
    lecture = " ".join(f"Part {i}: the lecturer explains how leaves turn light into sugar." for i in range(900))
    llm.enqueue(Behaviour(status=500), provider="anthropic", kind="chunk_notes")
    llm.enqueue(Behaviour(delay=0.6), provider="anthropic", kind="chunk_notes", times=50)
    long_map = {"anthropic_context_tokens": 4000, "ai_max_output_tokens": 1000, "ai_timeout_seconds": 15.0}
    with make_client(ai_settings(settings, llm, **long_map)) as client:
        api = Api(client)
        response = process(api, signed_in(api), transcript=lecture, outputs=["summary", "topics"], language="en")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data["served_by"].values()) == {"openai/gpt-4.1-mini"}
    [mapped] = data["map_step"]
    assert (mapped["provider"], mapped["outcome"]) == ("anthropic", "unavailable")
    sent_and_cancelled = [r for r in llm.requests if r.provider == "anthropic" and r.kind == "chunk_notes"][1:]
    assert mapped["calls"] >= len(sent_and_cancelled) >= 1  # a call cancelled before it was sent counts too
    assert mapped["tokens"]["input"] > 0
    assert mapped["tokens"]["output"] == 0
    [combined] = data["combined_calls"]  # openai's one call for both outputs
    assert (combined["provider"], combined["outputs"]) == ("openai", ["summary", "topics"])
    outputs_total = sum(v["tokens"]["input"] for v in data["attribution"].values())
    assert data["tokens"]["input"] == outputs_total + combined["tokens"]["input"] + mapped["tokens"]["input"]


def test_a_learning_request_sends_the_transcript_once(ai: Api, llm: FakeLLMServer) -> None:
    """Summary, topics and mind map come from one call: the transcript travels once, and the input tokens are the
    transcript's own plus a fixed prompt (instructions, the three tasks), not three times the transcript."""
    sentence = "Sentence number 7 explains how plants turn light, water and carbon dioxide into sugar and oxygen."
    assert TRANSCRIPT.count(sentence) == 1
    response = process(ai, signed_in(ai), purpose="learning", language="en")

    assert response.status_code == 200, response.text
    asked = [r for r in llm.requests if r.kind]
    assert sum(r.prompt.count(sentence) for r in asked) == 1
    transcript_tokens = len(TRANSCRIPT) // 4  # the fake's count
    assert response.json()["data"]["tokens"]["input"] <= 1.15 * transcript_tokens + 1200


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_re_ask_reads_the_transcript_from_the_prompt_cache_at_its_discount(
    settings: Settings, llm: FakeLLMServer, provider: str
) -> None:
    """The source block leads every call of the job with the same bytes (Anthropic: marked for caching), so the
    re-ask of an invalid summary reads it from the provider's cache; the answer counts those tokens as cached and
    prices them at the provider's discount."""
    lecture = " ".join([TRANSCRIPT] * 2)  # over the 1024 tokens both providers need before they cache
    order = [provider, "anthropic" if provider == "openai" else "openai"]
    llm.enqueue(Behaviour(answers={"summary": {"summary": "Far too short."}}), provider=provider)  # type: ignore[arg-type]
    with make_client(ai_settings(settings, llm, ai_chain=order)) as client:
        api = Api(client)
        response = process(api, signed_in(api), transcript=lecture, outputs=["summary", "topics"], language="en")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    first, again = [r for r in llm.requests if r.kind]
    if provider == "anthropic":
        marked = first.body["messages"][0]["content"][0]
        assert marked["cache_control"] == {"type": "ephemeral"}
        assert lecture[:2000] in marked["text"]
        for part in ("tools", "system", "tool_choice"):
            assert first.body[part] == again.body[part]
        assert again.body["messages"][0]["content"][0] == marked
        (_, written), (_, read) = llm.usages
        assert written["cache_creation_input_tokens"] > 1024
        assert read["cache_read_input_tokens"] == written["cache_creation_input_tokens"]
        cached = read["cache_read_input_tokens"]
    else:
        assert first.body["response_format"] == again.body["response_format"]
        assert first.body["messages"][0] == again.body["messages"][0]
        assert again.body["messages"][1]["content"].startswith(
            first.body["messages"][1]["content"].split("</transcript>")[0]
        )
        (_, written), (_, read) = llm.usages
        assert written["prompt_tokens_details"]["cached_tokens"] == 0
        cached = read["prompt_tokens_details"]["cached_tokens"]
        assert cached >= 1024
    assert data["tokens"]["cached"] == cached
    assert data["cost_usd"] == pytest.approx(billed(provider, written) + billed(provider, read), abs=1e-6)
    uncached = billed(provider, written) + billed(provider, _uncached(provider, read))
    assert data["cost_usd"] < uncached


def _uncached(provider: str, usage: dict[str, Any]) -> dict[str, Any]:
    """The same usage as if nothing had come from the cache (to price the call without the discount)."""
    if provider == "anthropic":
        return {
            **usage,
            "input_tokens": usage["input_tokens"] + usage["cache_read_input_tokens"],
            "cache_read_input_tokens": 0,
        }
    return {**usage, "prompt_tokens_details": {"cached_tokens": 0}}
