"""Which providers serve a request, in which order, paid with whose key (ProviderChainPolicy)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from application.access import Caller
from application.auth.authenticate import ALL_SCOPES, Principal
from application.processing.catalog import ProviderCatalog, ProviderProfile
from application.processing.chain import Preference, ProviderChainPolicy
from application.processing.ports import ApiKey
from application.processing.process import ProcessCommand
from application.processing.runner import Attempt
from domain.errors import InvalidInput
from domain.users import Email, User
from tests.unit.fakes import T0


def _policy(*, gemini_key: bool) -> ProviderChainPolicy:
    profiles = {
        "anthropic": ProviderProfile("anthropic", ("claude-a", "claude-b"), True, 100_000),
        "openai": ProviderProfile("openai", ("gpt-a",), True, 100_000),
        "gemini": ProviderProfile("gemini", ("gemini-2.0-flash",), gemini_key, 100_000),
        "local": ProviderProfile("local", ("local-1",), True, 100_000, translates=False),
    }
    return ProviderChainPolicy(ProviderCatalog(profiles, {}, ("anthropic", "openai")))


def _caller(preferred_provider: str | None = None) -> Caller:
    user = replace(User.register(Email("ada@example.com"), "hash", T0), preferred_provider=preferred_provider)
    return Caller(Principal(user, ALL_SCOPES), "10.0.0.1")


def _served(chain: list[Attempt]) -> list[str]:
    return [f"{a.provider}/{a.model}/{a.payer}" for a in chain]


def test_request_then_user_preference_then_user_keys_then_the_server_chain() -> None:
    policy = _policy(gemini_key=False)
    command = ProcessCommand(("summary",), transcript="text", model="gpt-a")
    chain = policy.chain(command, _caller("anthropic"), {"gemini": ApiKey("user-key-123")})
    assert _served(chain) == [
        "openai/gpt-a/server_key",
        "anthropic/claude-a/server_key",
        "gemini/gemini-2.0-flash/user_key",
    ]


def test_a_prototype_gemini_model_name_is_a_hint_for_the_configured_gemini_model() -> None:
    hint = ProcessCommand(
        None, transcript="text", purpose="learning", model="gemini-2.5-pro", preference=Preference.HINT
    )
    _policy(gemini_key=True).check(hint)  # a hint may name a model this server does not offer
    assert _served(_policy(gemini_key=True).chain(hint, _caller(), {}))[0] == "gemini/gemini-2.0-flash/server_key"
    # without a Gemini key the hint gives way to the server's chain
    assert _served(_policy(gemini_key=False).chain(hint, _caller(), {}))[0] == "anthropic/claude-a/server_key"


def test_a_required_provider_without_a_usable_key_is_refused() -> None:
    command = ProcessCommand(("summary",), transcript="text", provider="gemini")
    with pytest.raises(InvalidInput) as refused:
        _policy(gemini_key=False).chain(command, _caller(), {})
    assert refused.value.problems[0].field == "provider"
    with pytest.raises(InvalidInput) as refused:
        _policy(gemini_key=False).check(ProcessCommand(("summary",), transcript="text", model="gemini-2.5-pro"))
    assert refused.value.problems[0].field == "model"
