from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from application.accounts.ports import ProviderKeyRepository
from application.auth.authenticate import Principal
from application.errors import PermissionDenied
from application.processing.catalog import ProviderCatalog, ProviderProfile
from application.processing.ports import CircuitBreaker, ProviderStats, ProviderStatsView
from application.processing.runner import breaker_key
from domain.api_tokens import Scope
from domain.usage import Spend


@dataclass(frozen=True, slots=True)
class ProviderOverview:
    profile: ProviderProfile
    stats: ProviderStatsView
    in_default_chain: bool
    your_key: bool
    cooling_down: bool  # the server key's circuit is open: calls are skipped for now


class CompareProviders:
    """The providers side by side: what they offer and how they have behaved over the stats window."""

    raises = (PermissionDenied,)

    def __init__(
        self,
        catalog: ProviderCatalog,
        stats: ProviderStats,
        breaker: CircuitBreaker,
        keys: ProviderKeyRepository,
    ) -> None:
        self._catalog = catalog
        self._stats = stats
        self._breaker = breaker
        self._keys = keys

    async def __call__(self, principal: Principal) -> Sequence[ProviderOverview]:
        principal.require(Scope.READ)
        stored = {key.provider for key in await self._keys.list(principal.user.id)}
        seen = {view.provider: view for view in await self._stats.snapshot()}
        return [
            ProviderOverview(
                profile=profile,
                stats=seen.get(name) or ProviderStatsView(name, 0, 0, 0, None, None, Spend()),
                in_default_chain=name in self._catalog.default_chain,
                your_key=name in stored,
                cooling_down=self._breaker.is_open(breaker_key(name)),
            )
            for name, profile in self._catalog.profiles.items()
        ]

    @property
    def window_seconds(self) -> int:
        return self._stats.window_seconds
