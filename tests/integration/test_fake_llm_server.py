"""The fake LLM server speaks the providers' wire formats: the real SDKs, pointed at it, get real objects and raise
their real errors."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import anthropic
import msgspec
import openai
import pytest

from domain.errors import InvalidAnswer
from domain.outputs import AnswerContext, MindMapAnswer, answer_schema, check_answer
from infrastructure.ai.schema import strict_schema
from tests.fakes.llm_answers import KINDS
from tests.fakes.llm_server import Behaviour, FakeLLMServer

ROOT = Path(__file__).resolve().parents[2]
NORMAL_TRANSCRIPT = AnswerContext(source_words=2500, source_chars=15000, duration=900.0)
SDK = Literal["anthropic", "openai", "gemini"]


def wire_schema(kind: str) -> dict[str, Any]:
    """What our adapters send for `kind`."""
    return strict_schema(answer_schema(kind))


@pytest.fixture
async def claude(llm: FakeLLMServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=llm.url, max_retries=0) as client:
        yield client


@pytest.fixture
async def gpt(llm: FakeLLMServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=f"{llm.url}/v1", max_retries=0) as client:
        yield client


async def ask_anthropic(client: anthropic.AsyncAnthropic, kind: str, prompt: str = "Summarise it.") -> str:
    message = await client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=2048,
        system="Answer by calling the tool. language code: en",
        messages=[{"role": "user", "content": prompt}],
        tools=[{"name": kind, "description": f"Give the {kind}", "input_schema": wire_schema(kind), "strict": True}],
        tool_choice={"type": "tool", "name": kind},
    )
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use"
    assert block.name == kind
    return json.dumps(block.input)


async def ask_openai(client: openai.AsyncOpenAI, kind: str, prompt: str = "Summarise it.") -> str:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": prompt}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": kind, "schema": wire_schema(kind), "strict": True},
        },
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content is not None
    return choice.message.content


async def ask(sdk: SDK, llm: FakeLLMServer, kind: str, prompt: str = "Summarise it.", key: str = "sk-test") -> str:
    if sdk == "anthropic":
        async with anthropic.AsyncAnthropic(api_key=key, base_url=llm.url, max_retries=0) as claude:
            return await ask_anthropic(claude, kind, prompt)
    base_url = f"{llm.url}/v1beta/openai/" if sdk == "gemini" else f"{llm.url}/v1"
    async with openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0) as client:
        return await ask_openai(client, kind, prompt)


def assert_is_a_three_level_tree(raw: str) -> None:
    nodes = msgspec.json.decode(raw, type=MindMapAnswer).nodes
    ids = [node.id for node in nodes]
    assert len(ids) == len(set(ids))
    roots = [node for node in nodes if node.parent is None]
    assert len(roots) == 1
    branches = [node for node in nodes if node.parent == roots[0].id]
    assert 3 <= len(branches) <= 4
    for branch in branches:
        assert len([node for node in nodes if node.parent == branch.id]) == 2


@pytest.mark.parametrize("sdk", ["anthropic", "openai", "gemini"])
@pytest.mark.parametrize("kind", KINDS)
async def test_the_default_answer_of_every_kind_meets_its_output_rules(llm: FakeLLMServer, sdk: SDK, kind: str) -> None:
    raw = await ask(sdk, llm, kind)
    if kind == "mind_map":
        assert_is_a_three_level_tree(raw)
    try:
        checked = check_answer(kind, raw, NORMAL_TRANSCRIPT)
    except NotImplementedError:
        pytest.skip("domain.mind_map.build_mind_map is not implemented yet")
    assert checked.value


@pytest.mark.parametrize("sdk", ["anthropic", "openai"])
async def test_answers_are_in_polish_when_the_prompt_asks_for_polish(llm: FakeLLMServer, sdk: SDK) -> None:
    polish = json.loads(await ask(sdk, llm, "summary", "Write it. language code: pl"))["summary"]
    english = json.loads(await ask(sdk, llm, "summary", "Write it. language code: en"))["summary"]
    assert any(letter in polish for letter in "ąćęłńóśźż")
    assert "The video" in english
    check_answer("summary", json.dumps({"summary": polish}), NORMAL_TRANSCRIPT)


async def test_timestamps_come_from_the_prompts_markers_and_are_null_without_them(
    claude: anthropic.AsyncAnthropic,
) -> None:
    marked = "[00:05] Intro. [01:30] Basics. [03:10] Mistakes. [1:02:03] Outro."
    topics = json.loads(await ask_anthropic(claude, "topics", marked))["topics"]
    assert {topic["timestamp"] for topic in topics} <= {5.0, 90.0, 190.0, 3723.0}
    assert topics[0]["timestamp"] == 5.0
    plain = json.loads(await ask_anthropic(claude, "topics", "No markers here."))["topics"]
    assert {topic["timestamp"] for topic in plain} == {None}


async def test_a_429_is_the_sdks_rate_limit_error_with_a_readable_retry_after(
    llm: FakeLLMServer, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm.enqueue(Behaviour(status=429, retry_after=7), provider="anthropic", kind="summary")
    llm.enqueue(Behaviour(status=429, retry_after=2.5, should_retry=True), provider="openai")
    with pytest.raises(anthropic.RateLimitError) as claude_error:
        await ask_anthropic(claude, "summary")
    assert claude_error.value.response.headers["retry-after"] == "7"
    assert claude_error.value.type == "rate_limit_error"
    with pytest.raises(openai.RateLimitError) as gpt_error:
        await ask_openai(gpt, "summary")
    assert gpt_error.value.response.headers["retry-after"] == "2.5"
    assert gpt_error.value.response.headers["x-should-retry"] == "true"
    assert gpt_error.value.code == "rate_limit_exceeded"
    assert llm.pending == 0


async def test_server_errors_are_the_sdks_server_errors(
    llm: FakeLLMServer, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm.enqueue(Behaviour(status=500), provider="anthropic")
    llm.enqueue(Behaviour(status=529), provider="anthropic")
    llm.enqueue(Behaviour(status=503), provider="openai")
    with pytest.raises(anthropic.InternalServerError) as internal:
        await ask_anthropic(claude, "topics")
    assert internal.value.type == "api_error"
    with pytest.raises(anthropic.OverloadedError):
        await ask_anthropic(claude, "topics")
    with pytest.raises(openai.InternalServerError) as unavailable:
        await ask_openai(gpt, "topics")
    assert unavailable.value.status_code == 503


async def test_a_delay_beyond_the_clients_timeout_is_a_timeout(llm: FakeLLMServer) -> None:
    llm.default = Behaviour(delay=2)
    async with anthropic.AsyncAnthropic(api_key="k", base_url=llm.url, max_retries=0, timeout=0.2) as claude:
        with pytest.raises(anthropic.APITimeoutError):
            await ask_anthropic(claude, "summary")
    async with openai.AsyncOpenAI(api_key="k", base_url=f"{llm.url}/v1", max_retries=0, timeout=0.2) as gpt:
        with pytest.raises(openai.APITimeoutError):
            await ask_openai(gpt, "summary")


async def test_a_dropped_connection_is_a_connection_error(
    llm: FakeLLMServer, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm.default = Behaviour(drop=True)
    with pytest.raises(anthropic.APIConnectionError) as claude_error:
        await ask_anthropic(claude, "summary")
    assert not isinstance(claude_error.value, anthropic.APITimeoutError)
    with pytest.raises(openai.APIConnectionError) as gpt_error:
        await ask_openai(gpt, "summary")
    assert not isinstance(gpt_error.value, openai.APITimeoutError)


async def test_an_unknown_key_is_refused_with_401(llm: FakeLLMServer) -> None:
    llm.accepted_keys = {"sk-good"}
    with pytest.raises(anthropic.AuthenticationError) as claude_error:
        await ask("anthropic", llm, "summary", key="sk-bad")
    assert claude_error.value.type == "authentication_error"
    with pytest.raises(openai.AuthenticationError) as gpt_error:
        await ask("openai", llm, "summary", key="sk-bad")
    assert gpt_error.value.code == "invalid_api_key"
    assert json.loads(await ask("openai", llm, "summary", key="sk-good"))["summary"]
    assert [request.api_key for request in llm.requests] == ["sk-bad", "sk-bad", "sk-good"]


async def test_the_models_list_works_in_both_formats_and_checks_the_key(llm: FakeLLMServer) -> None:
    async with anthropic.AsyncAnthropic(api_key="sk-ant", base_url=llm.url, max_retries=0) as claude:
        assert [model.id async for model in claude.models.list()] == ["claude-sonnet-4-6", "claude-haiku-4-5"]
    async with openai.AsyncOpenAI(api_key="sk-oai", base_url=f"{llm.url}/v1", max_retries=0) as gpt:
        assert "gpt-4o-mini" in [model.id async for model in gpt.models.list()]
    async with openai.AsyncOpenAI(api_key="AIza-test", base_url=f"{llm.url}/v1beta/openai/", max_retries=0) as gemini:
        assert "models/gemini-2.5-flash" in [model.id async for model in gemini.models.list()]
    assert [(r.provider, r.path, r.kind) for r in llm.requests] == [
        ("anthropic", "/v1/models", None),
        ("openai", "/v1/models", None),
        ("openai", "/v1beta/openai/models", None),
    ]
    llm.accepted_keys = {"sk-other"}
    async with anthropic.AsyncAnthropic(api_key="sk-ant", base_url=llm.url, max_retries=0) as claude:
        with pytest.raises(anthropic.AuthenticationError):
            await claude.models.list()


async def test_a_malformed_answer_is_prose_not_json(
    llm: FakeLLMServer, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm.default = Behaviour(malformed=True)
    message = await claude.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=100,
        messages=[{"role": "user", "content": "x"}],
        tools=[{"name": "summary", "description": "d", "input_schema": wire_schema("summary")}],
        tool_choice={"type": "tool", "name": "summary"},
    )
    assert [block.type for block in message.content] == ["text"]
    with pytest.raises(InvalidAnswer):
        check_answer("summary", await ask_openai(gpt, "summary"), NORMAL_TRANSCRIPT)


async def test_a_scripted_answer_replaces_the_default_and_usage_can_be_set(
    llm: FakeLLMServer, gpt: openai.AsyncOpenAI
) -> None:
    llm.enqueue(Behaviour(answer={"summary": "Far too short to pass."}, input_tokens=1200, output_tokens=30))
    completion = await gpt.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "x"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "summary", "schema": wire_schema("summary"), "strict": True},
        },
    )
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (1200, 30)
    assert completion.usage.total_tokens == 1230
    with pytest.raises(InvalidAnswer, match="5 words"):
        check_answer("summary", completion.choices[0].message.content or "", NORMAL_TRANSCRIPT)


async def test_queued_behaviours_go_to_matching_requests_in_order_and_everything_is_recorded(
    llm: FakeLLMServer, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm.enqueue(Behaviour(status=500), provider="openai", kind="topics", times=2)
    llm.enqueue(Behaviour(answer={"summary": "one two three"}), kind="summary")
    assert json.loads(await ask_anthropic(claude, "topics"))["topics"]  # no queued entry matches
    assert json.loads(await ask_anthropic(claude, "summary")) == {"summary": "one two three"}
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            await ask_openai(gpt, "topics")
    assert json.loads(await ask_openai(gpt, "topics"))["topics"]
    await ask_openai(gpt, "summary", "Fix it: The summary has 3 words; it must have between 100 and 200 words")
    requests = llm.requests
    assert [(r.provider, r.kind) for r in requests] == [
        ("anthropic", "topics"),
        ("anthropic", "summary"),
        ("openai", "topics"),
        ("openai", "topics"),
        ("openai", "topics"),
        ("openai", "summary"),
    ]
    assert {r.api_key for r in requests} == {"sk-ant-test", "sk-test"}
    assert "it must have between 100 and 200 words" in requests[-1].prompt
    assert requests[0].body["tool_choice"] == {"type": "tool", "name": "topics"}
    assert [r.at for r in requests] == sorted(r.at for r in requests)
    llm.clear()
    assert llm.requests == []


async def test_concurrent_requests_are_not_serialised(llm: FakeLLMServer, gpt: openai.AsyncOpenAI) -> None:
    llm.default = Behaviour(delay=0.5)
    started = time.monotonic()
    answers = await asyncio.gather(*(ask_openai(gpt, "custom") for _ in range(40)))
    assert len(answers) == 40
    assert time.monotonic() - started < 5  # one after another would take 20 s


async def test_a_request_our_code_must_never_send_is_refused_like_the_real_api(llm: FakeLLMServer) -> None:
    async with anthropic.AsyncAnthropic(api_key="k", base_url=llm.url, max_retries=0) as claude:
        with pytest.raises(anthropic.BadRequestError, match="not among the provided tools"):
            await claude.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=100,
                messages=[{"role": "user", "content": "x"}],
                tools=[{"name": "summary", "description": "d", "input_schema": {"type": "object"}}],
                tool_choice={"type": "tool", "name": "topics"},
            )


@pytest.mark.parametrize(
    ("schema", "complaint"),
    [
        (answer_schema("topics"), "object"),  # msgspec's own form, with a $ref at the root
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, "additionalProperties"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, "Missing 'a'"),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string", "minLength": 3}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "'minLength' is not permitted",
        ),
    ],
)
@pytest.mark.parametrize("sdk", ["anthropic", "openai"])
async def test_a_schema_outside_the_strict_subset_is_refused(
    llm: FakeLLMServer, sdk: SDK, schema: Any, complaint: str
) -> None:
    if sdk == "anthropic":
        async with anthropic.AsyncAnthropic(api_key="k", base_url=llm.url, max_retries=0) as claude:
            with pytest.raises(anthropic.BadRequestError, match=re.escape(complaint)):
                await claude.messages.create(
                    model="claude-sonnet-4-6",
                    max_tokens=100,
                    messages=[{"role": "user", "content": "x"}],
                    tools=[{"name": "topics", "description": "d", "input_schema": schema, "strict": True}],
                    tool_choice={"type": "tool", "name": "topics"},
                )
        return
    async with openai.AsyncOpenAI(api_key="k", base_url=f"{llm.url}/v1", max_retries=0) as gpt:
        with pytest.raises(openai.BadRequestError, match=re.escape(complaint)):
            await gpt.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "x"}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "topics", "schema": schema, "strict": True},
                },
            )


@pytest.mark.parametrize("sdk", ["anthropic", "openai"])
async def test_no_answer_is_given_that_the_schema_received_forbids(llm: FakeLLMServer, sdk: SDK) -> None:
    """The bug this llm exists to catch: a topics schema that lost its `title` property. A strict provider can only
    answer `{timestamp}` objects, so the llm, whose answer has titles, refuses instead of pretending. A scripted
    answer of the wrong shape is refused the same way."""
    schema = wire_schema("topics")
    del schema["properties"]["topics"]["items"]["properties"]["title"]
    schema["properties"]["topics"]["items"]["required"] = ["timestamp"]
    llm.enqueue(Behaviour(answer={"summary": 42}), kind="summary")
    for kind, kind_schema in (("topics", schema), ("summary", wire_schema("summary"))):
        if sdk == "anthropic":
            async with anthropic.AsyncAnthropic(api_key="k", base_url=llm.url, max_retries=0) as claude:
                with pytest.raises(anthropic.BadRequestError, match="fits the request's schema"):
                    await claude.messages.create(
                        model="claude-sonnet-4-6",
                        max_tokens=100,
                        messages=[{"role": "user", "content": "x"}],
                        tools=[{"name": kind, "description": "d", "input_schema": kind_schema, "strict": True}],
                        tool_choice={"type": "tool", "name": kind},
                    )
            continue
        async with openai.AsyncOpenAI(api_key="k", base_url=f"{llm.url}/v1", max_retries=0) as gpt:
            with pytest.raises(openai.BadRequestError, match="fits the request's schema"):
                await gpt.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": "x"}],
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": kind, "schema": kind_schema, "strict": True},
                    },
                )


async def test_a_provider_that_ignores_the_schema_can_be_scripted(llm: FakeLLMServer, gpt: openai.AsyncOpenAI) -> None:
    llm.enqueue(Behaviour(answer={"text": "not what was asked"}, ignores_schema=True))
    completion = await gpt.chat.completions.create(
        model="llama3",
        messages=[{"role": "user", "content": "x"}],
        response_format={"type": "json_schema", "json_schema": {"name": "summary", "schema": wire_schema("summary")}},
    )
    with pytest.raises(InvalidAnswer, match="not valid JSON for the required schema"):
        check_answer("summary", completion.choices[0].message.content or "", NORMAL_TRANSCRIPT)


def test_it_runs_standalone_for_benchmarks() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--port", "0", "--delay", "0.01"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        with openai.OpenAI(api_key="k", base_url=f"{url}/v1", max_retries=0, timeout=5) as client:
            completion: Any = client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "x"}],
                response_format={"type": "json_schema", "json_schema": {"name": "custom", "schema": {}}},
            )
        process.terminate()
        assert process.wait(timeout=5) == 0
    assert json.loads(completion.choices[0].message.content)["output"]


def outputs_schema(kinds: tuple[str, ...]) -> dict[str, Any]:
    """An answer holding several outputs, each under its kind's name (what Scribe sends for a whole request)."""
    return {
        "type": "object",
        "properties": {kind: {"anyOf": [wire_schema(kind), {"type": "null"}]} for kind in kinds},
        "required": list(kinds),
        "additionalProperties": False,
    }


async def test_an_answer_of_several_outputs_holds_each_and_one_of_them_can_be_scripted(
    llm: FakeLLMServer, claude: anthropic.AsyncAnthropic
) -> None:
    kinds = ("summary", "topics", "mind_map")
    llm.enqueue(Behaviour(answers={"topics": {"topics": []}}), kind="topics")
    tool = {"name": "outputs", "description": "d", "input_schema": outputs_schema(kinds), "strict": True}
    for _ in range(2):
        message = await claude.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=4096,
            messages=[{"role": "user", "content": "All three. language code: en"}],
            tools=[tool],  # type: ignore[list-item]
            tool_choice={"type": "tool", "name": "outputs"},
        )
        block = message.content[0]
        assert block.type == "tool_use"
        assert set(block.input) == set(kinds)  # type: ignore[arg-type]
        check_answer("summary", json.dumps(block.input["summary"]), NORMAL_TRANSCRIPT)  # type: ignore[index]
    scripted, default = llm.requests
    assert scripted.kinds == default.kinds == kinds
    assert scripted.kind == "summary+topics+mind_map"
    assert block.input["topics"]["topics"]  # type: ignore[index]  # the scripted part was used once only


def long_text(words: int) -> str:
    return " ".join(f"word{i}" for i in range(words))


async def anthropic_usage(
    claude: anthropic.AsyncAnthropic, source: str, marked: bool = True, tool: str = "Give the summary"
) -> tuple[int, int, int]:
    """(uncached input, cache read, cache written) of one call whose first block is `source`."""
    first: dict[str, Any] = {"type": "text", "text": source}
    if marked:
        first["cache_control"] = {"type": "ephemeral"}
    message = await claude.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=2048,
        system="Answer by calling the tool. language code: en",
        messages=[{"role": "user", "content": [first, {"type": "text", "text": "Summarise it."}]}],  # type: ignore[list-item]
        tools=[{"name": "summary", "description": tool, "input_schema": wire_schema("summary"), "strict": True}],
        tool_choice={"type": "tool", "name": "summary"},
    )
    usage = message.usage
    return usage.input_tokens, usage.cache_read_input_tokens or 0, usage.cache_creation_input_tokens or 0


async def test_anthropic_caches_a_marked_prefix_long_enough_and_reads_it_back(
    llm: FakeLLMServer, claude: anthropic.AsyncAnthropic
) -> None:
    source = long_text(1500)  # ~2.6k of the fake's tokens
    uncached, read, written = await anthropic_usage(claude, source)
    assert (read, written > 1024) == (0, True)
    again = await anthropic_usage(claude, source)
    assert again == (uncached, written, 0)  # the same prefix: read from the cache, the rest counted as before
    assert (await anthropic_usage(claude, source, tool="Another tool"))[1] == 0  # other tools: another prefix
    assert (await anthropic_usage(claude, long_text(1499)))[1] == 0  # another text: another prefix
    assert (await anthropic_usage(claude, long_text(1400), marked=False))[1:] == (0, 0)  # not marked: no cache
    assert (await anthropic_usage(claude, long_text(100)))[1:] == (0, 0)  # below the minimum: no cache


async def test_openai_caches_long_prompts_by_prefix_in_128_token_steps(
    llm: FakeLLMServer, gpt: openai.AsyncOpenAI
) -> None:
    async def cached(prompt: str) -> int:
        completion = await gpt.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": prompt}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "summary", "schema": wire_schema("summary"), "strict": True},
            },
        )
        assert completion.usage is not None
        assert completion.usage.prompt_tokens_details is not None
        return completion.usage.prompt_tokens_details.cached_tokens or 0

    source = long_text(1500)
    assert await cached(f"{source}\n\nSummarise it.") == 0
    hit = await cached(f"{source}\n\nSummarise it again, shorter.")
    assert hit >= 1024
    assert (hit - 1024) % 128 == 0
    short = long_text(200)
    assert await cached(short) == await cached(short) == 0  # under 1024 tokens nothing is cached
