"""Pagination cursors signed to the user and query they were minted for."""

from __future__ import annotations

import base64
import hashlib
import hmac

from application.errors import InvalidCursor


class HmacCursorSeal:
    def __init__(self, secret_key: str) -> None:
        # Its own key, derived from the server's secret, so a cursor's signature can never pass for anything else.
        self._key = hmac.new(secret_key.encode(), b"scribe pagination cursors v1", hashlib.sha256).digest()

    def seal(self, cursor: str, context: str) -> str:
        return f"{cursor}.{self._mac(cursor, context)}"

    def open(self, sealed: str, context: str) -> str:
        cursor, _, mac = sealed.rpartition(".")
        if not cursor or not hmac.compare_digest(mac.encode(), self._mac(cursor, context).encode()):
            raise InvalidCursor
        return cursor

    def _mac(self, cursor: str, context: str) -> str:
        digest = hmac.new(self._key, f"{context}\n{cursor}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
