"""Anthropic Messages API; the answer is forced through a tool whose input schema is the output contract."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import msgspec

from application.errors import ProviderFailure
from application.processing.ports import ApiKey, Generation, GenerationRequest
from infrastructure.ai.failures import as_failure, key_check_failure
from infrastructure.ai.schema import ANSWER_TOOL, StrictSchemas

if TYPE_CHECKING:
    import anthropic
    from anthropic.types import TextBlockParam, ToolParam


class AnthropicProvider:
    def __init__(self, server_key: str | None, timeout: float, base_url: str | None = None) -> None:
        self._timeout = timeout  # for the whole call, however slowly the answer arrives
        self._server_key, self._base_url = server_key, base_url
        # With a key of the server's the SDK loads at start, not within a first request's deadline.
        self._made: anthropic.AsyncAnthropic | None = self._make() if server_key else None
        self._schemas = StrictSchemas()

    @property
    def _client(self) -> anthropic.AsyncAnthropic:
        """Made on first use: the SDK takes ~50 MB of a server process, spent only where Anthropic is called."""
        if self._made is None:
            self._made = self._make()
        return self._made

    def _make(self) -> anthropic.AsyncAnthropic:
        import anthropic

        # aiohttp underneath instead of httpx's own pool: less CPU per call (bench/job_cost.py).
        return anthropic.AsyncAnthropic(
            api_key=self._server_key or "no-server-key",
            base_url=self._base_url,
            timeout=self._timeout,
            max_retries=0,
            http_client=anthropic.DefaultAioHttpClient(),
        )

    def _client_for(self, key: ApiKey | None) -> anthropic.AsyncAnthropic:
        return self._client if key is None else self._client.with_options(api_key=key.secret)

    async def generate(self, request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        tool: ToolParam = {
            "name": ANSWER_TOOL,
            "description": "Record the requested outputs for the transcript.",
            "input_schema": self._schemas(request.schema),
            "strict": True,  # the answer is decoded under the schema, as OpenAI's strict json_schema does
        }
        # Tools, system and the source block are the same on every call of a job: the breakpoint after the source
        # lets a re-ask read them from the prompt cache (tools come first in Anthropic's cache prefix).
        source: TextBlockParam = {"type": "text", "text": request.context}
        if request.cache_source:
            source["cache_control"] = {"type": "ephemeral"}
        content: list[TextBlockParam] = [source, {"type": "text", "text": request.prompt}]
        try:
            client = self._client_for(key)  # outside the deadline: it may load the SDK
            async with asyncio.timeout(self._timeout):  # the SDK's timeout is per read: a trickle never trips it
                response = await client.messages.create(
                    model=model,
                    max_tokens=request.max_output_tokens,
                    system=request.system,
                    messages=[{"role": "user", "content": content}],
                    tools=[tool],
                    tool_choice={"type": "tool", "name": ANSWER_TOOL},
                )
        except Exception as error:
            raise as_failure("anthropic", error) from None
        try:
            answer = next((block.input for block in response.content if block.type == "tool_use"), None)
            if answer is not None:
                text = msgspec.json.encode(answer).decode()
            else:  # no tool call: hand back whatever it wrote, validation will say what is wrong
                text = "".join(getattr(block, "text", None) or "" for block in response.content)
            usage = response.usage
            # `input_tokens` are those after the last cache breakpoint; the cached prefix is counted apart.
            read = int(usage.cache_read_input_tokens or 0)
            written = int(usage.cache_creation_input_tokens or 0)
            tokens_in = int(usage.input_tokens or 0) + read + written
            return Generation(text, tokens_in, int(usage.output_tokens or 0), read, written)
        except Exception as error:
            raise ProviderFailure("anthropic", "invalid_output", type(error).__name__) from None

    async def check_key(self, secret: str) -> None:
        try:
            client = self._client.with_options(api_key=secret)
            async with asyncio.timeout(self._timeout):
                await client.models.list(limit=1)
        except Exception as error:
            raise key_check_failure("anthropic", error) from None

    async def aclose(self) -> None:
        if self._made is not None:
            await self._made.close()
