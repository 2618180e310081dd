"""AES-256-GCM under a versioned master keyring: the SecretBox that seals users' provider keys.

A token is urlsafe base64 of nonce (96 bits, fresh per seal) + ciphertext + tag. The associated data is
`"{context}|{version}"`, so a token opens only for the user and provider it was sealed for, and only under the
master version it names: relabelling or copying it anywhere else fails authentication."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.accounts.ports import SealedSecret
from application.errors import SecretUnreadable

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
DEV_KEY_VERSION = "dev"
_DEV_KEY_INFO = b"scribe/provider-keys/dev"


class AesGcmSecretBox:
    def __init__(self, keyring: Mapping[str, bytes]) -> None:
        """`keyring`: version → 32-byte key; the first entry is the version new seals use."""
        if not keyring:
            raise ValueError("the keyring is empty")
        if any(len(key) != KEY_BYTES for key in keyring.values()):
            raise ValueError("every master key must be 32 bytes (AES-256)")
        self._ciphers = {version: AESGCM(key) for version, key in keyring.items()}
        self._current = next(iter(keyring))

    @property
    def current_version(self) -> str:
        return self._current

    def seal(self, plaintext: str, context: str) -> SealedSecret:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext.encode(), _aad(context, self._current))
        return SealedSecret(self._current, base64.urlsafe_b64encode(nonce + sealed).decode("ascii"))

    def open(self, sealed: SealedSecret, context: str) -> str:
        cipher = self._ciphers.get(sealed.version)
        raw = _decode(sealed.token)
        if cipher is None or raw is None:
            raise SecretUnreadable
        try:
            plaintext = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(context, sealed.version))
            return plaintext.decode()
        except (InvalidTag, UnicodeDecodeError):
            raise SecretUnreadable from None


def _aad(context: str, version: str) -> bytes:
    # surrogatepass: any str is a valid context; a strange one simply fails to authenticate.
    return f"{context}|{version}".encode("utf-8", "surrogatepass")


def _decode(token: str) -> bytes | None:
    """The token's bytes, or None unless it is exactly what `seal` writes (canonical base64, long enough)."""
    try:
        raw = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    canonical = base64.urlsafe_b64encode(raw).decode("ascii") == token
    return raw if canonical and len(raw) >= NONCE_BYTES + TAG_BYTES else None


def derived_dev_key(secret_key: str) -> bytes:
    """The development master key (version "dev"), derived from the server's secret key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_DEV_KEY_INFO)
    return hkdf.derive(secret_key.encode())
