from __future__ import annotations

import pytest

from infrastructure.security.device_tokens import HmacDeviceTokens

DEVICES = HmacDeviceTokens("Qm7vX2pL9sK4wN8eR1tY6uB3cF5hJ0dG")


def test_a_device_token_vouches_for_its_own_account_only() -> None:
    token = DEVICES.issue("ada@example.com")
    assert DEVICES.is_valid(token, "ada@example.com")
    assert not DEVICES.is_valid(token, "eve@example.com")
    assert not HmacDeviceTokens("another server secret key, 32+ chars").is_valid(token, "ada@example.com")
    assert DEVICES.issue("ada@example.com") != token  # each login, its own device


@pytest.mark.parametrize("garbage", ["", ".", "x.y", "ż.ź", "no-dot-at-all", "a" * 200])
def test_garbage_is_simply_not_a_device_token(garbage: str) -> None:
    assert not DEVICES.is_valid(garbage, "ada@example.com")
