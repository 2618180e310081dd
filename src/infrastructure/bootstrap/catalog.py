"""The server's providers, built from settings: every provider a user may bring a key for is listed; the
server's own keys decide the default chain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from application.processing.catalog import KEYED_PROVIDERS, ProviderCatalog, ProviderProfile
from application.processing.ports import LLMProvider
from infrastructure.ai.anthropic_messages import AnthropicProvider
from infrastructure.ai.local import LocalProvider
from infrastructure.ai.openai_chat import OpenAIChatProvider
from infrastructure.bootstrap.settings import Settings

log = structlog.get_logger("scribe.ai")

LOCAL_MODEL = "extractive-v2"  # bump when the algorithm's answers change
LOCAL_CONTEXT_TOKENS = 10**9  # the local algorithm reads any length in one pass
# Prompt-cache prices as multiples of the input price (read, write), from the providers' price lists: Anthropic
# bills cache reads at 0.1x and 5-minute cache writes at 1.25x; OpenAI's automatic cache reads at 0.5x (writes
# cost nothing extra); Gemini 2.5's implicit cache reads at 0.25x. A compatible server's pricing is unknown.
CACHE_PRICES = {"anthropic": (0.1, 1.25), "openai": (0.5, 1.0), "gemini": (0.25, 1.0)}


def build_catalog(settings: Settings) -> tuple[ProviderCatalog, list[Callable[[], Awaitable[None]]]]:
    """The catalog, and what to call at shutdown to close the SDK clients' connection pools."""
    timeout = settings.ai_timeout_seconds
    prices = {model: (pair[0], pair[1]) for model, pair in settings.ai_prices.items()}
    adapters: dict[str, LLMProvider] = {}
    profiles: dict[str, ProviderProfile] = {}
    closers: list[Callable[[], Awaitable[None]]] = []

    def add(
        name: str, adapter: AnthropicProvider | OpenAIChatProvider, models: list[str], has_key: bool, context: int
    ) -> None:
        adapters[name] = adapter
        read, write = CACHE_PRICES.get(name, (1.0, 1.0))
        profiles[name] = ProviderProfile(name, tuple(models), has_key, context, prices, True, read, write)
        closers.append(adapter.aclose)

    add(
        "anthropic",
        AnthropicProvider(settings.anthropic_api_key, timeout, settings.anthropic_base_url),
        settings.anthropic_models,
        settings.anthropic_api_key is not None,
        settings.anthropic_context_tokens,
    )
    add(
        "openai",
        OpenAIChatProvider(
            "openai", settings.openai_api_key, timeout, settings.openai_base_url, "max_completion_tokens"
        ),
        settings.openai_models,
        settings.openai_api_key is not None,
        settings.openai_context_tokens,
    )
    add(
        "gemini",
        OpenAIChatProvider("gemini", settings.gemini_api_key, timeout, settings.gemini_base_url),
        settings.gemini_models,
        settings.gemini_api_key is not None,
        settings.gemini_context_tokens,
    )
    if settings.compatible_base_url:  # local servers (Ollama, vLLM) often need no key at all
        add(
            "compatible",
            OpenAIChatProvider("compatible", settings.compatible_api_key, timeout, settings.compatible_base_url),
            settings.compatible_models,
            True,
            settings.compatible_context_tokens,
        )
    adapters["local"] = LocalProvider()
    profiles["local"] = ProviderProfile("local", (LOCAL_MODEL,), True, LOCAL_CONTEXT_TOKENS, translates=False)
    for name in settings.ai_chain:
        if name in KEYED_PROVIDERS and not (name in profiles and profiles[name].has_server_key):
            log.warning("ai_chain_provider_without_server_key", provider=name, note="used only with users' own keys")
    chain = tuple(settings.ai_chain) or (
        tuple(name for name in KEYED_PROVIDERS if name in profiles and profiles[name].has_server_key) or ("local",)
    )
    return ProviderCatalog(profiles, adapters, chain), closers
