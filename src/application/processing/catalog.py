"""Which AI providers this server knows, how to reach them, and what their models cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from application.processing.ports import LLMProvider
from domain.usage import Spend

PROVIDER_NAMES = ("anthropic", "openai", "gemini", "compatible", "local")
KEYED_PROVIDERS = ("anthropic", "openai", "gemini", "compatible")  # the ones a user can bring a key for


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    name: str
    models: tuple[str, ...]  # the first is the default
    has_server_key: bool
    context_tokens: int  # transcript budget per call; longer transcripts are mapped and reduced
    prices: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # model → USD per 1M tokens in, out
    translates: bool = True  # writes in the requested language; `local` quotes the transcript in its own
    # Prompt-cache pricing, as multiples of the input price: tokens read from the cache, tokens written to it.
    cache_read_price: float = 1.0
    cache_write_price: float = 1.0

    @property
    def default_model(self) -> str:
        return self.models[0]

    @property
    def accepts_user_keys(self) -> bool:
        return self.name in KEYED_PROVIDERS

    def spend(self, model: str, tokens_in: int, tokens_out: int, cache_read: int = 0, cache_write: int = 0) -> Spend:
        """`tokens_in` counts every input token; `cache_read` and `cache_write` of them are priced as the cache is."""
        price_in, price_out = self.prices.get(model, (0.0, 0.0))
        uncached = tokens_in - cache_read - cache_write
        weighted_in = uncached + cache_read * self.cache_read_price + cache_write * self.cache_write_price
        return Spend(tokens_in, tokens_out, (weighted_in * price_in + tokens_out * price_out) / 1_000_000, cache_read)


@dataclass(frozen=True, slots=True)
class ProviderCatalog:
    profiles: Mapping[str, ProviderProfile]  # every provider configured on this server
    adapters: Mapping[str, LLMProvider]
    default_chain: tuple[str, ...]  # the server's order when neither request nor user prefers one

    def profile(self, name: str) -> ProviderProfile | None:
        return self.profiles.get(name)
