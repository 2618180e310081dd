"""Which providers serve a request, in which order, and paid with whose key: the one place that decides it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from application.access import Caller
from application.processing.catalog import ProviderCatalog
from application.processing.ports import ApiKey
from application.processing.runner import Attempt, breaker_key
from domain.errors import InvalidField, InvalidInput, Problem, check_all

if TYPE_CHECKING:  # the command imports the Preference below
    from application.processing.process import ProcessCommand


class Preference(Enum):
    """How binding a requested provider or model is."""

    REQUIRED = "required"  # /api/v1: one that cannot be served is refused
    HINT = "hint"  # the prototype's model names: followed when they can be served, else the server's chain


# A model name that no configured provider offers still says whose it is: the prototype's frontend names Gemini
# models (gemini-2.5-pro, -flash, -flash-lite), and the configured Gemini model serves whichever it sends.
MODEL_FAMILIES = {"gemini-": "gemini"}


@dataclass(frozen=True, slots=True)
class ProviderChainPolicy:
    catalog: ProviderCatalog

    def check(self, command: ProcessCommand) -> None:
        """The requested provider and model are offered here (a hint may name a model that is not)."""

        def provider() -> None:
            if command.provider is not None and command.provider not in self.catalog.profiles:
                raise InvalidField(f"is not offered here (offered: {', '.join(self.catalog.profiles)})")

        def model() -> None:
            if command.model is None or command.preference is Preference.HINT:
                return
            offered = self._models_of(command.provider)
            if command.model not in offered:
                raise InvalidField(f"is not offered (offered: {', '.join(offered)})")

        check_all({"provider": provider, "model": model})

    def chain(self, command: ProcessCommand, caller: Caller, user_keys: Mapping[str, ApiKey]) -> list[Attempt]:
        """Request preference, then the user's preferred provider, then providers the user brought keys for, then
        the server's order; each provider once, paid with the user's key when there is one, else the server's;
        providers without a usable key are left out."""
        profiles = self.catalog.profiles
        preferred = command.provider or self._provider_of(command.model)
        user_choice = caller.principal.user.preferred_provider if caller.principal else None
        wanted = [name for name in (preferred, user_choice) if name] + [*user_keys, *self.catalog.default_chain]
        chain: list[Attempt] = []
        for name in dict.fromkeys(name for name in wanted if name in profiles):
            profile = profiles[name]
            model = command.model if name == preferred and command.model in profile.models else profile.default_model
            assert model is not None
            if name in user_keys:
                chain.append(Attempt(name, model, user_keys[name], breaker_key(name, caller.user_id)))
            elif profile.has_server_key:  # `local` counts as having one: it needs none
                chain.append(Attempt(name, model, None, breaker_key(name)))
        insists = command.preference is Preference.REQUIRED
        if preferred and insists and (not chain or chain[0].provider != preferred):
            message = f"'{preferred}' has no usable key: store yours with PUT /api/v1/me/api-keys/{preferred}"
            raise InvalidInput([Problem("provider" if command.provider else "model", message)])
        return chain

    def _provider_of(self, model: str | None) -> str | None:
        if model is None:
            return None
        offering = next((p.name for p in self.catalog.profiles.values() if model in p.models), None)
        family = next((name for prefix, name in MODEL_FAMILIES.items() if model.startswith(prefix)), None)
        return offering or family

    def _models_of(self, provider: str | None) -> list[str]:
        profile = self.catalog.profile(provider) if provider else None
        return [m for p in ([profile] if profile else self.catalog.profiles.values()) for m in p.models]
