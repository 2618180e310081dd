"""OpenAI Chat Completions with a strict JSON schema: OpenAI itself, Gemini's OpenAI-compatible endpoint, and any
OpenAI-compatible server (Ollama, vLLM, OpenRouter)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from application.errors import ProviderFailure
from application.processing.ports import ApiKey, Generation, GenerationRequest
from infrastructure.ai.failures import as_failure, key_check_failure
from infrastructure.ai.schema import ANSWER_TOOL, StrictSchemas

if TYPE_CHECKING:
    import openai


class OpenAIChatProvider:
    def __init__(
        self,
        name: str,
        server_key: str | None,
        timeout: float,
        base_url: str | None = None,
        token_limit_parameter: str = "max_tokens",  # noqa: S107 (a parameter name, not a secret)
    ) -> None:
        self._name = name
        self._timeout = timeout  # for the whole call, however slowly the answer arrives
        self._server_key, self._base_url = server_key, base_url
        # With a key of the server's the SDK loads at start, not within a first request's deadline.
        self._made: openai.AsyncOpenAI | None = self._make() if server_key else None
        # OpenAI's newer models take `max_completion_tokens`; compatible servers know `max_tokens`.
        self._token_limit_parameter = token_limit_parameter
        self._schemas = StrictSchemas()

    @property
    def _client(self) -> openai.AsyncOpenAI:
        """Made on first use: the SDK takes ~13 MB of a server process, spent only where it is called."""
        if self._made is None:
            self._made = self._make()
        return self._made

    def _make(self) -> openai.AsyncOpenAI:
        import openai

        # Retries are ours (fallback to the next provider), so the SDK must not spend the time budget on them.
        # aiohttp underneath instead of httpx's own pool: less CPU per call (bench/job_cost.py).
        return openai.AsyncOpenAI(
            api_key=self._server_key or "no-server-key",
            base_url=self._base_url,
            timeout=self._timeout,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )

    def _client_for(self, key: ApiKey | None) -> openai.AsyncOpenAI:
        return self._client if key is None else self._client.with_options(api_key=key.secret)

    async def generate(self, request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        # Schema, system and the source block lead every call of a job unchanged: OpenAI caches a prompt's prefix
        # by itself (from 1024 tokens), so a re-ask reads them from the cache.
        arguments: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": f"{request.context}\n\n{request.prompt}"},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": ANSWER_TOOL, "schema": self._schemas(request.schema), "strict": True},
            },
            self._token_limit_parameter: request.max_output_tokens,
        }
        try:
            client = self._client_for(key)  # outside the deadline: it may load the SDK
            async with asyncio.timeout(self._timeout):  # the SDK's timeout is per read: a trickle never trips it
                response = await client.chat.completions.create(**arguments)
        except Exception as error:
            raise as_failure(self._name, error) from None
        try:
            message = response.choices[0].message
            usage = response.usage
            details = usage.prompt_tokens_details if usage else None
            return Generation(
                text=message.content or message.refusal or "",
                tokens_in=int(usage.prompt_tokens or 0) if usage else 0,
                tokens_out=int(usage.completion_tokens or 0) if usage else 0,
                cache_read=int(details.cached_tokens or 0) if details else 0,
            )
        except Exception as error:
            raise ProviderFailure(self._name, "invalid_output", type(error).__name__) from None

    async def check_key(self, secret: str) -> None:
        try:
            client = self._client.with_options(api_key=secret)
            async with asyncio.timeout(self._timeout):
                await client.models.list()
        except Exception as error:
            raise key_check_failure(self._name, error) from None

    async def aclose(self) -> None:
        if self._made is not None:
            await self._made.close()
