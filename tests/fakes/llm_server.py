"""A fake LLM provider on loopback that the real `anthropic` and `openai` SDKs talk to unchanged (point their
`base_url` at `fake.url`; for Gemini's OpenAI-compatible endpoint use `f"{fake.url}/v1beta/openai/"`).

Routes: `POST /v1/messages` (Anthropic Messages, answering with one `tool_use` block), `POST .../chat/completions`
(OpenAI Chat Completions, answering with the JSON as message content), `GET .../models` (Anthropic's format when the
request carries `x-api-key` or `anthropic-version`, OpenAI's otherwise).

Strict like the real services: a strict schema outside the subset strict mode compiles is refused with 400, and an
answer (default or scripted) is only given when it is valid under the schema the request carried — checked with a
JSON-Schema validator against the request as received, never against Scribe's types (`tests/fakes/wire_schema.py`).
Otherwise the fake refuses with 400, since the real model could not have produced that answer.

Scripting: `fake.enqueue(Behaviour(status=429, retry_after=7), provider="anthropic", kind="summary")` queues a
behaviour for the next matching request; unmatched requests get `fake.default`. Every request is recorded in
`fake.requests`.

Standalone, for benchmarks: `python -m tests.fakes.llm_server --port 0 --delay 0.05` prints the URL and serves
until killed."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import secrets
import signal
import threading
import time
from collections import deque
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
    kind: str | None  # the requested output kind; None for the models list
    api_key: str | None
    body: Any  # the parsed JSON body; None for GET
    at: float  # time.monotonic() when it arrived

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
        self.default = Behaviour()
        self.accepted_keys: set[str] = set()

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
    def pending(self) -> int:
        """Queued behaviours not yet consumed."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forgets recorded requests."""
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """Back to the state of a fresh server: no recordings, no queue, default behaviour, any key accepted."""
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self.default = Behaviour()
            self.accepted_keys = set()

    def _next_behaviour(self, provider: Provider, kind: str | None) -> Behaviour:
        with self._lock:
            for queued in self._queue:
                if queued.provider in (None, provider) and queued.kind in (None, kind):
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
        kind = _requested_kind(provider, body) if problem is None else None
        key = _api_key(provider, request)
        self._record(provider, request, kind, key, body)
        if problem:
            return _error(provider, 400, problem)
        schema, strict = _wire_schema(provider, body)
        if strict and (schema_problem := strict_schema_problem(schema)):
            return _error(provider, 400, f"Invalid schema for {kind!r}: {schema_problem}")
        if not self._key_accepted(key):
            return _error(provider, 401)
        behaviour = self._next_behaviour(provider, kind)
        if failure := await _fail(provider, behaviour):
            return None if failure == "drop" else failure
        if behaviour.raw_body is not None:
            return HttpResponse.of_json(200, behaviour.raw_body)
        prompt = _prompt(body)
        answer: dict[str, Any] | None = None
        if behaviour.malformed:
            text = _MALFORMED_TEXT
        elif behaviour.answer is None and kind not in KINDS:
            return _error(provider, 400, f"fake LLM server cannot answer kind {kind!r}; use one of {', '.join(KINDS)}")
        else:
            answer = behaviour.answer if behaviour.answer is not None else default_answer(kind or "", prompt)
            if schema is not None and not behaviour.ignores_schema and (off := answer_problem(schema, answer)):
                return _error(provider, 400, f"fake model: no answer to {kind!r} fits the request's schema ({off})")
            text = json.dumps(answer, ensure_ascii=False)
        tokens_in = behaviour.input_tokens if behaviour.input_tokens is not None else _tokens(prompt)
        tokens_out = behaviour.output_tokens if behaviour.output_tokens is not None else _tokens(text)
        if provider == "anthropic":
            response = _anthropic_message(body, kind or "", answer, tokens_in, tokens_out)
        else:
            response = _openai_completion(body, text, tokens_in, tokens_out)
        return dataclasses.replace(response, byte_interval=behaviour.trickle)

    async def _models(self, request: HttpRequest, provider: Provider) -> HttpResponse | None:
        key = _api_key(provider, request)
        self._record(provider, request, None, key, None)
        if not self._key_accepted(key):
            return _error(provider, 401)
        behaviour = self._next_behaviour(provider, None)
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

    def _record(self, provider: Provider, request: HttpRequest, kind: str | None, key: str | None, body: Any) -> None:
        record = RecordedRequest(provider, request.method, request.path, kind, key, body, time.monotonic())
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


def _requested_kind(provider: Provider, body: dict[str, Any]) -> str | None:
    if provider == "anthropic":
        choice = body.get("tool_choice") or {}
        if choice.get("type") == "tool":
            return str(choice["name"])
        tools = body.get("tools") or []
        return str(tools[0]["name"]) if tools else None
    schema = (body.get("response_format") or {}).get("json_schema") or {}
    name = schema.get("name")
    return str(name) if name else None


def _api_key(provider: Provider, request: HttpRequest) -> str | None:
    # Anthropic takes `x-api-key` or a bearer token; anthropic 2.x sends the api_key as the bearer token.
    if provider == "anthropic" and "x-api-key" in request.headers:
        return request.headers["x-api-key"]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _anthropic_message(
    body: dict[str, Any], kind: str, answer: dict[str, Any] | None, tokens_in: int, tokens_out: int
) -> HttpResponse:
    """`answer` None: the model wrote prose instead of calling the tool."""
    if answer is None:
        content: list[dict[str, Any]] = [{"type": "text", "text": _MALFORMED_TEXT}]
    else:
        content = [{"type": "tool_use", "id": f"toolu_{secrets.token_hex(12)}", "name": kind, "input": answer}]
    message = {
        "id": f"msg_{secrets.token_hex(12)}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": "end_turn" if answer is None else "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }
    return HttpResponse.of_json(200, message, {"request-id": _request_id()})


def _openai_completion(body: dict[str, Any], text: str, tokens_in: int, tokens_out: int) -> HttpResponse:
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
        "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out},
    }
    return HttpResponse.of_json(200, completion, {"x-request-id": _request_id()})


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
