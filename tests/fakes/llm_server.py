"""A fake LLM provider on loopback that the real `anthropic` and `openai` SDKs talk to unchanged (point their
`base_url` at `fake.url`; for Gemini's OpenAI-compatible endpoint use `f"{fake.url}/v1beta/openai/"`).

Routes: `POST /v1/messages` (Anthropic Messages, answering with one `tool_use` block), `POST .../chat/completions`
(OpenAI Chat Completions, answering with the JSON as message content), `GET .../models` (Anthropic's format when the
request carries `x-api-key` or `anthropic-version`, OpenAI's otherwise).

Strict like the real services: a strict schema outside the subset strict mode compiles is refused with 400, and an
answer (default or scripted) is only given when it is valid under the schema the request carried — checked with a
JSON-Schema validator against the request as received, never against Scribe's types (`tests/fakes/wire_schema.py`).
Otherwise the fake refuses with 400, since the real model could not have produced that answer.

What is asked: a tool (Anthropic) or json_schema (OpenAI) named after an output kind asks for that kind's answer;
under any other name the schema's root properties are the kinds, and the answer holds one per property (Scribe
asks for every output of a request in one call this way).

Scripting: `fake.enqueue(Behaviour(status=429, retry_after=7), provider="anthropic", kind="summary")` queues a
behaviour for the next matching request (one that asks for `kind`, among others or alone); unmatched requests get
`fake.default`. Every request is recorded in `fake.requests`, and the usage of every answer given in
`fake.usages`.

Prompt caching, reported in `usage` as the real APIs do. Anthropic: a prefix ending at a block marked
`cache_control` (tools, then system, then messages, in that order) is written to the cache when it is at least
the model's minimum cacheable length, and read from it when the same prefix comes again. OpenAI: automatic for
prompts of 1024 tokens or more, the longest prefix seen before (same schema) counted in 128-token steps. Token
counts are the fake's own (about a token per 4 characters of the system and message text).

Standalone, for benchmarks: `python -m tests.fakes.llm_server --port 0 --delay 0.05` prints the URL and serves
until killed."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import secrets
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from tests.fakes.http_server import HttpRequest, HttpResponse, LoopbackServer
from tests.fakes.llm_answers import KINDS, default_answer
from tests.fakes.wire_schema import answer_problem, strict_schema_problem

Provider = Literal["anthropic", "openai"]

_ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit. Please try again later."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}
_OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests per min (RPM). Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
}
_MALFORMED_TEXT = "Sure! Here is what you asked for: the video explains its topic clearly and gives good examples."


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How to answer one request. The default answers at once with a valid answer for the requested kind."""

    delay: float = 0.0  # seconds before answering (or dropping): longer than the client's timeout makes it time out
    status: int = 200  # anything else answers with the provider's error body for that status
    retry_after: float | None = None  # sent as `retry-after` with an error status
    should_retry: bool | None = None  # sent as `x-should-retry` with an error status
    malformed: bool = False  # prose instead of JSON (Anthropic: a text block instead of tool_use)
    answer: dict[str, Any] | None = None  # this answer object instead of the default one
    answers: dict[str, Any] | None = None  # per kind: this part instead of its default (answers asking for several)
    # A provider that does not enforce the schema (a compatible server, a model without strict mode) may return an
    # answer the schema forbids; by default the fake, like a strict provider, cannot.
    ignores_schema: bool = False
    drop: bool = False  # close the connection without answering
    raw_body: Any = None  # answer 200 with exactly this JSON value instead of a well-formed response
    input_tokens: int | None = None  # reported usage; by default about a token per 4 characters
    output_tokens: int | None = None
    trickle: float = 0.0  # > 0: the answer arrives one byte every `trickle` seconds (no read ever times out)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    provider: Provider
    method: str
    path: str
    kinds: tuple[str, ...]  # the output kinds the answer's schema holds; () for the models list
    api_key: str | None
    body: Any  # the parsed JSON body; None for GET
    at: float  # time.monotonic() when it arrived

    @property
    def kind(self) -> str | None:
        """The kinds joined with "+" ("summary", "summary+topics+mind_map"); None for the models list."""
        return "+".join(self.kinds) or None

    @property
    def prompt(self) -> str:
        """Every piece of text in the system prompt and messages, joined: where a re-ask's error message shows."""
        return _prompt(self.body) if isinstance(self.body, dict) else ""


@dataclass(slots=True)
class _Queued:
    behaviour: Behaviour
    provider: Provider | None
    kind: str | None


class FakeLLMServer(LoopbackServer):
    """`accepted_keys` empty (the default) accepts any non-empty key; once filled, only the keys in it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(self._handle, host, port)
        self._lock = threading.Lock()
        self._queue: deque[_Queued] = deque()
        self._requests: list[RecordedRequest] = []
        self._usages: list[tuple[Provider, dict[str, Any]]] = []
        self.default = Behaviour()
        self.accepted_keys: set[str] = set()
        self._cache = _PromptCache()
        self._epoch = 0  # bumped by `reset`

    def enqueue(
        self, behaviour: Behaviour, provider: Provider | None = None, kind: str | None = None, times: int = 1
    ) -> None:
        """The next `times` requests matching `provider` and `kind` (None: any) get `behaviour`, in FIFO order.
        Models-list requests only match entries queued with `kind=None`."""
        with self._lock:
            self._queue.extend(_Queued(behaviour, provider, kind) for _ in range(times))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def usages(self) -> list[tuple[Provider, dict[str, Any]]]:
        """The `usage` object of every answer given, in the order given, in its provider's format."""
        with self._lock:
            return list(self._usages)

    @property
    def pending(self) -> int:
        """Queued behaviours not yet consumed."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forgets recorded requests."""
        with self._lock:
            self._requests.clear()
            self._usages.clear()

    def reset(self) -> None:
        """Back to the state of a fresh server: no recordings, no queue, default behaviour, any key accepted."""
        with self._lock:
            self._requests.clear()
            self._usages.clear()
            self._queue.clear()
            self.default = Behaviour()
            self.accepted_keys = set()
            # A fresh server: a test's prompts are not in the provider's cache before it sends them, and a call
            # received before the reset (a slow one of the previous test) reports its usage to nobody.
            self._cache = _PromptCache()
            self._epoch += 1

    def _next_behaviour(self, provider: Provider, kinds: tuple[str, ...]) -> Behaviour:
        with self._lock:
            for queued in self._queue:
                if queued.provider in (None, provider) and (queued.kind is None or queued.kind in kinds):
                    self._queue.remove(queued)
                    return queued.behaviour
            return self.default

    async def _handle(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path
        anthropic_headers = "x-api-key" in request.headers or "anthropic-version" in request.headers
        if request.method == "POST" and path == "/v1/messages":
            return await self._generate(request, "anthropic")
        if request.method == "POST" and path.endswith("/chat/completions"):
            return await self._generate(request, "openai")
        if request.method == "GET" and path.endswith("/models"):
            return await self._models(request, "anthropic" if anthropic_headers else "openai")
        provider: Provider = "anthropic" if anthropic_headers else "openai"
        return _error(provider, 404, f"fake LLM server has no route {request.method} {path}")

    async def _generate(self, request: HttpRequest, provider: Provider) -> HttpResponse | None:
        try:
            body = request.json()
        except ValueError:
            return _error(provider, 400, "The request body is not valid JSON")
        problem = _request_problem(provider, body)
        name, kinds = _requested_kinds(provider, body) if problem is None else (None, ())
        key = _api_key(provider, request)
        with self._lock:
            epoch, cache = self._epoch, self._cache
        self._record(provider, request, kinds, key, body)
        if problem:
            return _error(provider, 400, problem)
        schema, strict = _wire_schema(provider, body)
        if strict and (schema_problem := strict_schema_problem(schema)):
            return _error(provider, 400, f"Invalid schema for {name!r}: {schema_problem}")
        if not self._key_accepted(key):
            return _error(provider, 401)
        behaviour = self._next_behaviour(provider, kinds)
        if failure := await _fail(provider, behaviour):
            return None if failure == "drop" else failure
        if behaviour.raw_body is not None:
            return HttpResponse.of_json(200, behaviour.raw_body)
        prompt = _prompt(body)
        answer: dict[str, Any] | None = None
        if behaviour.malformed:
            text = _MALFORMED_TEXT
        else:
            scripted = behaviour.answers or {}
            unknown = [kind for kind in kinds if kind not in KINDS and kind not in scripted]
            if behaviour.answer is None and (unknown or not kinds):
                asked = unknown[0] if unknown else name
                return _error(
                    provider, 400, f"fake LLM server cannot answer kind {asked!r}; use one of {', '.join(KINDS)}"
                )
            if behaviour.answer is not None:
                answer = behaviour.answer
            elif name in KINDS:  # a tool named after the kind: its answer is the whole input
                answer = scripted.get(name) or default_answer(name, prompt)
            else:
                answer = {kind: scripted[kind] if kind in scripted else default_answer(kind, prompt) for kind in kinds}
            if schema is not None and not behaviour.ignores_schema and (off := answer_problem(schema, answer)):
                return _error(provider, 400, f"fake model: no answer to {name!r} fits the request's schema ({off})")
            text = json.dumps(answer, ensure_ascii=False)
        tokens_in = behaviour.input_tokens if behaviour.input_tokens is not None else _tokens(prompt)
        tokens_out = behaviour.output_tokens if behaviour.output_tokens is not None else _tokens(text)
        if provider == "anthropic":
            read, written = cache.anthropic(key, body)
            read = min(read, tokens_in)  # a scripted total bounds the cached part of it
            written = min(written, tokens_in - read)
            usage: dict[str, Any] = {
                "input_tokens": max(0, tokens_in - read - written),
                "output_tokens": tokens_out,
                "cache_creation_input_tokens": written,
                "cache_read_input_tokens": read,
            }
            response = _anthropic_message(body, name or "", answer, usage)
        else:
            usage = {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
                "prompt_tokens_details": {"cached_tokens": min(tokens_in, cache.openai(key, body, prompt))},
            }
            response = _openai_completion(body, text, usage)
        with self._lock:
            if epoch == self._epoch:
                self._usages.append((provider, usage))
        return dataclasses.replace(response, byte_interval=behaviour.trickle)

    async def _models(self, request: HttpRequest, provider: Provider) -> HttpResponse | None:
        key = _api_key(provider, request)
        self._record(provider, request, (), key, None)
        if not self._key_accepted(key):
            return _error(provider, 401)
        behaviour = self._next_behaviour(provider, ())
        if failure := await _fail(provider, behaviour):
            return None if failure == "drop" else failure
        if provider == "anthropic":
            models = [
                {
                    "type": "model",
                    "id": model_id,
                    "display_name": name,
                    "created_at": "2025-09-29T00:00:00Z",
                    "lifecycle": "active",
                }
                for model_id, name in (
                    ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
                    ("claude-haiku-4-5", "Claude Haiku 4.5"),
                )
            ]
            page = {"data": models, "has_more": False, "first_id": models[0]["id"], "last_id": models[-1]["id"]}
            response = HttpResponse.of_json(200, page, {"request-id": _request_id()})
            return dataclasses.replace(response, byte_interval=behaviour.trickle)
        owner = "google" if "/v1beta/openai/" in request.path else "openai"
        ids = ("models/gemini-2.5-flash", "models/gemini-2.5-pro") if owner == "google" else ("gpt-4o-mini", "gpt-4o")
        data = [{"id": model_id, "object": "model", "created": 1_721_172_741, "owned_by": owner} for model_id in ids]
        response = HttpResponse.of_json(200, {"object": "list", "data": data}, {"x-request-id": _request_id()})
        return dataclasses.replace(response, byte_interval=behaviour.trickle)

    def _record(
        self, provider: Provider, request: HttpRequest, kinds: tuple[str, ...], key: str | None, body: Any
    ) -> None:
        record = RecordedRequest(provider, request.method, request.path, kinds, key, body, time.monotonic())
        with self._lock:
            self._requests.append(record)

    def _key_accepted(self, key: str | None) -> bool:
        accepted = self.accepted_keys
        return bool(key) and (not accepted or key in accepted)


async def _fail(provider: Provider, behaviour: Behaviour) -> HttpResponse | Literal["drop"] | None:
    """The scripted failure (after the scripted delay), or None to answer normally."""
    if behaviour.delay > 0:
        await asyncio.sleep(behaviour.delay)
    if behaviour.drop:
        return "drop"
    if behaviour.status != 200:
        headers = {}
        if behaviour.retry_after is not None:
            headers["retry-after"] = f"{behaviour.retry_after:g}"
        if behaviour.should_retry is not None:
            headers["x-should-retry"] = str(behaviour.should_retry).lower()
        return _error(provider, behaviour.status, headers=headers)
    return None


def _error(
    provider: Provider, status: int, message: str | None = None, headers: dict[str, str] | None = None
) -> HttpResponse:
    if provider == "anthropic":
        kind, default_message = _ANTHROPIC_ERRORS.get(
            status, ("api_error" if status >= 500 else "invalid_request_error", "Error")
        )
        request_id = _request_id()
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": kind, "message": message or default_message},
            "request_id": request_id,
        }
        return HttpResponse.of_json(status, body, {"request-id": request_id, **(headers or {})})
    error_type, code, default_text = _OPENAI_ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error")
    )
    body = {"error": {"message": message or default_text, "type": error_type, "param": None, "code": code}}
    return HttpResponse.of_json(status, body, {"x-request-id": _request_id(), **(headers or {})})


def _request_problem(provider: Provider, body: Any) -> str | None:
    """What the real API would refuse with a 400 in the fields our code relies on."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object"
    required = ("model", "max_tokens", "messages") if provider == "anthropic" else ("model", "messages")
    missing = [name for name in required if name not in body]
    if missing:
        return f"{missing[0]}: Field required"
    if not isinstance(body["messages"], list) or not body["messages"]:
        return "messages: at least one message is required"
    if provider == "anthropic":
        for index, tool in enumerate(body.get("tools") or []):
            if not isinstance(tool.get("input_schema"), dict) or tool["input_schema"].get("type") != "object":
                return f"tools.{index}.custom.input_schema.type: Input should be 'object'"
        choice = body.get("tool_choice") or {}
        names = {tool.get("name") for tool in body.get("tools") or []}
        if choice.get("type") == "tool" and choice.get("name") not in names:
            return f"tool_choice: tool {choice.get('name')!r} is not among the provided tools"
    return None


def _wire_schema(provider: Provider, body: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The schema the answer must meet, as the request carries it, and whether the request asks for strict mode."""
    if provider == "anthropic":
        choice = body.get("tool_choice") or {}
        tool = next((t for t in body.get("tools") or [] if t.get("name") == choice.get("name")), None)
        if tool is None:
            return None, False
        return tool.get("input_schema"), bool(tool.get("strict"))
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema":
        return None, False
    wrapper = response_format.get("json_schema") or {}
    return wrapper.get("schema"), bool(wrapper.get("strict"))


def _requested_kinds(provider: Provider, body: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """The tool's (or json_schema's) name, and the kinds it asks for: the name itself when it names a kind, else
    the root properties of its schema."""
    if provider == "anthropic":
        choice = body.get("tool_choice") or {}
        tools = body.get("tools") or []
        name = choice.get("name") if choice.get("type") == "tool" else (tools[0].get("name") if tools else None)
    else:
        name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
    if not name:
        return None, ()
    if name in KINDS:
        return str(name), (str(name),)
    schema, _ = _wire_schema(provider, body)
    properties = (schema or {}).get("properties") if isinstance(schema, dict) else None
    return str(name), tuple(properties) if isinstance(properties, dict) else ()


def _api_key(provider: Provider, request: HttpRequest) -> str | None:
    # Anthropic takes `x-api-key` or a bearer token; anthropic 2.x sends the api_key as the bearer token.
    if provider == "anthropic" and "x-api-key" in request.headers:
        return request.headers["x-api-key"]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _anthropic_message(
    body: dict[str, Any], name: str, answer: dict[str, Any] | None, usage: dict[str, Any]
) -> HttpResponse:
    """`answer` None: the model wrote prose instead of calling the tool."""
    if answer is None:
        content: list[dict[str, Any]] = [{"type": "text", "text": _MALFORMED_TEXT}]
    else:
        content = [{"type": "tool_use", "id": f"toolu_{secrets.token_hex(12)}", "name": name, "input": answer}]
    message = {
        "id": f"msg_{secrets.token_hex(12)}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": "end_turn" if answer is None else "tool_use",
        "stop_sequence": None,
        "usage": usage,
    }
    return HttpResponse.of_json(200, message, {"request-id": _request_id()})


def _openai_completion(body: dict[str, Any], text: str, usage: dict[str, Any]) -> HttpResponse:
    completion = {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }
    return HttpResponse.of_json(200, completion, {"x-request-id": _request_id()})


class _PromptCache:
    """The providers' prompt caches, per key and model, as far as their usage reports show them."""

    ANTHROPIC_MINIMUM = 1024  # tokens: the shortest prefix Sonnet and Opus models cache
    ANTHROPIC_HAIKU_MINIMUM = 2048
    OPENAI_MINIMUM = 1024
    OPENAI_STEP = 128
    _KEPT = 256  # prompts remembered per key, model and schema (OpenAI)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._anthropic: set[str] = set()
        self._openai: dict[tuple[str | None, str, str], deque[str]] = {}

    def anthropic(self, key: str | None, body: dict[str, Any]) -> tuple[int, int]:
        """(tokens read, tokens written): the longest marked prefix seen before is read, the longer marked ones
        that reach the minimum are written."""
        minimum = self.ANTHROPIC_HAIKU_MINIMUM if "haiku" in str(body.get("model")) else self.ANTHROPIC_MINIMUM
        # Changing the tools changes every prefix; changing tool_choice, every prefix that reaches into messages.
        head = json.dumps([key, body.get("model"), body.get("tools"), body.get("tool_choice")], sort_keys=True)
        breakpoints: list[tuple[str, int]] = []  # (the prefix's identity, its tokens) at each marked block
        texts: list[str] = []
        blocks: list[Any] = []
        for block, text in _blocks(body):
            blocks.append(block)
            texts.append(text)
            if isinstance(block, dict) and block.get("cache_control"):
                identity = hashlib.sha256((head + json.dumps(blocks, sort_keys=True)).encode()).hexdigest()
                breakpoints.append((identity, _tokens("\n".join(texts))))
        with self._lock:
            hits = [tokens for identity, tokens in breakpoints if identity in self._anthropic]
            read = max(hits, default=0)
            longest = max((tokens for _, tokens in breakpoints), default=0)
            written = longest - read if longest > read and longest >= minimum else 0
            if written:
                self._anthropic.update(identity for identity, tokens in breakpoints if tokens >= minimum)
        return read, written

    def openai(self, key: str | None, body: dict[str, Any], prompt: str) -> int:
        """Cached tokens: the longest prefix shared with an earlier prompt (same key, model and schema), counted in
        128-token steps from 1024; prompts shorter than 1024 tokens are not cached at all."""
        if _tokens(prompt) < self.OPENAI_MINIMUM:
            return 0
        slot = (key, str(body.get("model")), json.dumps(body.get("response_format"), sort_keys=True))
        with self._lock:
            seen = self._openai.setdefault(slot, deque(maxlen=self._KEPT))
            shared = max((_common_prefix(prompt, earlier) for earlier in seen), default=0)
            seen.append(prompt)
        tokens = _tokens(prompt[:shared]) if shared else 0
        if tokens < self.OPENAI_MINIMUM:
            return 0
        return self.OPENAI_MINIMUM + (tokens - self.OPENAI_MINIMUM) // self.OPENAI_STEP * self.OPENAI_STEP


def _common_prefix(one: str, other: str) -> int:
    """The length of the longest common prefix of two strings (a binary search over slice comparisons)."""
    low, high = 0, min(len(one), len(other))
    while low < high:
        middle = (low + high + 1) // 2
        if one[:middle] == other[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _blocks(body: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """System blocks, then each message's content blocks, in prompt order, with their text."""
    system = body.get("system")
    for block in [system] if isinstance(system, str) else system or []:
        yield block, "\n".join(_texts(block))
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in [content] if isinstance(content, str) else content or []:
            yield block, "\n".join(_texts(block))


def _prompt(body: dict[str, Any]) -> str:
    return "\n".join(_texts([body.get("system"), body.get("messages")]))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fake LLM provider until killed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    options = parser.parse_args()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    with FakeLLMServer(options.host, options.port) as fake:
        fake.default = dataclasses.replace(fake.default, delay=options.delay)
        print(fake.url, flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
