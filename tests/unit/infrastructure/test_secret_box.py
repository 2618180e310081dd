"""AES-GCM secret box: what it seals opens only unchanged, in its own context, under its own master version."""

from __future__ import annotations

import base64
import os
import uuid

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.accounts.ports import SealedSecret
from application.errors import SecretUnreadable
from infrastructure.bootstrap.keyring import secret_box_from_settings
from infrastructure.bootstrap.settings import ConfigError
from infrastructure.security.secret_box import AesGcmSecretBox
from tests.conftest import make_settings

V1, V2 = os.urandom(32), os.urandom(32)
BOX = AesGcmSecretBox({"v2": V2, "v1": V1})
CONTEXT = f"{uuid.uuid4()}|anthropic"

secrets = st.text(max_size=600)
contexts = st.text(max_size=200)


@given(secrets, contexts)
def test_what_is_sealed_opens_in_the_same_context(secret: str, context: str) -> None:
    sealed = BOX.seal(secret, context)
    assert sealed.version == "v2"
    assert BOX.open(sealed, context) == secret


@given(st.text(min_size=1, max_size=100), st.data())
def test_flipping_any_byte_of_the_token_is_detected(secret: str, data: st.DataObject) -> None:
    sealed = BOX.seal(secret, CONTEXT)
    token = bytearray(sealed.token.encode())
    position = data.draw(st.integers(0, len(token) - 1))
    token[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(SecretUnreadable):
        BOX.open(SealedSecret(sealed.version, token.decode("latin-1")), CONTEXT)


@given(st.binary(min_size=0, max_size=200), st.data())
def test_a_tampered_ciphertext_is_detected(garbage: bytes, data: st.DataObject) -> None:
    raw = bytearray(base64.urlsafe_b64decode(BOX.seal("sk-secret-value", CONTEXT).token))
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= data.draw(st.integers(1, 255))
    for token in (bytes(raw), bytes(raw)[:-1], garbage):
        with pytest.raises(SecretUnreadable):
            BOX.open(SealedSecret("v2", base64.urlsafe_b64encode(token).decode()), CONTEXT)


@given(contexts, contexts)
def test_another_context_does_not_open_it(context: str, other: str) -> None:
    sealed = BOX.seal("sk-secret-value", context)
    if other != context:
        with pytest.raises(SecretUnreadable):
            BOX.open(sealed, other)


def test_a_key_moved_to_another_user_or_provider_does_not_open() -> None:
    user, someone_else = uuid.uuid4(), uuid.uuid4()
    sealed = BOX.seal("sk-secret-value", f"{user}|anthropic")
    for context in (f"{someone_else}|anthropic", f"{user}|openai", f"{user}|anthropic|v2", ""):
        with pytest.raises(SecretUnreadable):
            BOX.open(sealed, context)


def test_another_version_label_does_not_open_it_even_under_the_same_key() -> None:
    same_key_twice = AesGcmSecretBox({"v2": V2, "v2b": V2})
    sealed = same_key_twice.seal("sk-secret-value", CONTEXT)
    with pytest.raises(SecretUnreadable):
        same_key_twice.open(SealedSecret("v2b", sealed.token), CONTEXT)
    with pytest.raises(SecretUnreadable):
        BOX.open(SealedSecret("v1", BOX.seal("sk-secret-value", CONTEXT).token), CONTEXT)


def test_a_keyring_without_that_version_does_not_open_it() -> None:
    sealed = AesGcmSecretBox({"v1": V1}).seal("sk-secret-value", CONTEXT)
    assert BOX.open(sealed, CONTEXT) == "sk-secret-value"  # v1 is still in BOX's keyring
    with pytest.raises(SecretUnreadable):
        AesGcmSecretBox({"v2": V2}).open(sealed, CONTEXT)
    with pytest.raises(SecretUnreadable):
        AesGcmSecretBox({"v1": V2}).open(sealed, CONTEXT)  # the label is there, the key is another


@given(secrets)
def test_the_same_secret_sealed_twice_gives_different_tokens(secret: str) -> None:
    first, second = BOX.seal(secret, CONTEXT), BOX.seal(secret, CONTEXT)
    assert first.token != second.token
    assert base64.urlsafe_b64decode(first.token)[:12] != base64.urlsafe_b64decode(second.token)[:12]


@pytest.mark.parametrize("token", ["", "not base64!", "AAAA", "é", "QUJD\n", "=" * 8, "A" * 39])
def test_malformed_tokens_are_unreadable(token: str) -> None:
    with pytest.raises(SecretUnreadable):
        BOX.open(SealedSecret("v2", token), CONTEXT)


def test_the_token_holds_no_plaintext() -> None:
    sealed = BOX.seal("sk-ant-very-recognisable-secret", CONTEXT)
    assert "recognisable" not in sealed.token
    assert b"recognisable" not in base64.urlsafe_b64decode(sealed.token)


def test_the_box_refuses_a_keyring_it_cannot_use() -> None:
    with pytest.raises(ValueError, match="empty"):
        AesGcmSecretBox({})
    with pytest.raises(ValueError, match="32 bytes"):
        AesGcmSecretBox({"v1": b"short"})


def test_settings_keyring_is_used_with_its_first_version_current() -> None:
    keys = f"v2:{base64.b64encode(V2).decode()},v1:{base64.b64encode(V1).decode()}"
    box = secret_box_from_settings(make_settings(encryption_keys=keys))
    assert box.current_version == "v2"
    assert box.open(BOX.seal("sk-secret-value", CONTEXT), CONTEXT) == "sk-secret-value"


SECRET_KEY = "Qm7vX2pL9sK4wN8eR1tY6uB3cF5hJ0dG"


def test_without_a_keyring_development_derives_a_stable_key_from_the_secret_key() -> None:
    first = secret_box_from_settings(make_settings(secret_key=SECRET_KEY))
    again = secret_box_from_settings(make_settings(secret_key=SECRET_KEY))
    other = secret_box_from_settings(make_settings(secret_key=SECRET_KEY[::-1]))
    sealed = first.seal("sk-secret-value", CONTEXT)
    assert first.current_version == "dev"
    assert again.open(sealed, CONTEXT) == "sk-secret-value"  # survives a restart
    with pytest.raises(SecretUnreadable):
        other.open(sealed, CONTEXT)


def test_a_deployed_server_never_falls_back_to_the_derived_key() -> None:
    deployed = msgspec.structs.replace(make_settings(), env="staging")  # as if its config check were skipped
    with pytest.raises(ConfigError, match="SCRIBE_ENCRYPTION_KEYS"):
        secret_box_from_settings(deployed)
