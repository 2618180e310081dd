"""Device tokens (OWASP's device cookies) as HMAC-SHA256 over the account and a random nonce: nothing is
stored, and a token proves only that this client once logged in to that account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


class HmacDeviceTokens:
    def __init__(self, secret_key: str) -> None:
        # Its own key, derived from the server's secret, so a device token can never pass for anything else.
        self._key = hmac.new(secret_key.encode(), b"scribe device tokens v1", hashlib.sha256).digest()

    def issue(self, account: str) -> str:
        nonce = _encode(secrets.token_bytes(16))
        return f"{nonce}.{self._mac(account, nonce)}"

    def is_valid(self, token: str, account: str) -> bool:
        nonce, _, mac = token.partition(".")
        return bool(nonce) and hmac.compare_digest(mac.encode(), self._mac(account, nonce).encode())

    def _mac(self, account: str, nonce: str) -> str:
        return _encode(hmac.new(self._key, f"{account}\n{nonce}".encode(), hashlib.sha256).digest())


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
