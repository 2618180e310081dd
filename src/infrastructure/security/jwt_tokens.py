from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt

from application.errors import AuthenticationFailed
from application.ports import AccessClaims, IssuedAccessToken

ALGORITHM = "HS256"  # the only one accepted: no "none", no RS/HS confusion
_REQUIRED = ["sub", "sid", "jti", "iat", "exp", "aud", "iss", "typ"]
_VERIFIED_CACHE_SIZE = 10_000


class JwtAccessTokenIssuer:
    """Issues and verifies our access tokens with PyJWT. A token is used many times in its 15 minutes; once
    PyJWT has verified a token string, the claims are kept (bounded, newest kept) and only the expiry is
    checked again, which takes a dictionary look-up instead of ~150 µs of parsing and HMAC."""

    def __init__(
        self,
        secret_key: str,
        audience: str,
        issuer: str,
        lifetime: timedelta,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = secret_key
        self._audience = audience
        self._issuer = issuer
        self._lifetime = lifetime
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()
        self._clock = clock

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> IssuedAccessToken:
        expires_at = now + self._lifetime
        claims = {
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": uuid.uuid4().hex,
            # Microsecond iat (a float round-trips it exactly), so a token minted in the same second as a
            # password change is told apart from one before it.
            "iat": now.timestamp(),
            "exp": int(expires_at.timestamp()),
            "aud": self._audience,
            "iss": self._issuer,
            "typ": "access",
        }
        return IssuedAccessToken(jwt.encode(claims, self._key, algorithm=ALGORITHM), expires_at)

    def decode(self, token: str) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            self._verified[token] = claims
            if len(self._verified) > _VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        if claims.expires_at.timestamp() <= self._clock():
            self._verified.pop(token, None)
            raise AuthenticationFailed("ExpiredSignatureError")
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED},
            )
            if claims["typ"] != "access":
                raise AuthenticationFailed("wrong_token_type")
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                jti=str(claims["jti"]),
                issued_at=datetime.fromtimestamp(float(claims["iat"]), UTC),
                expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise AuthenticationFailed(type(error).__name__) from None
