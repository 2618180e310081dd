"""Attacks on access tokens: each must fail as a plain AuthenticationFailed."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from application.errors import AuthenticationFailed
from infrastructure.security.jwt_tokens import JwtAccessTokenIssuer

KEY = "k" * 40
ISSUER = JwtAccessTokenIssuer(KEY, "scribe-api", "scribe", timedelta(minutes=15))


def _claims(**changes: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "jti": uuid.uuid4().hex,
        "iat": now.timestamp(),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "aud": "scribe-api",
        "iss": "scribe",
        "typ": "access",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_token_we_issued_decodes_to_its_claims() -> None:
    user, session = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    issued = ISSUER.issue(user, session, now)
    claims = ISSUER.decode(issued.token)
    assert (claims.user_id, claims.session_id) == (user, session)
    assert claims.issued_at == now  # exact to the microsecond: compared with tokens_valid_after


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.", id="alg-none"),
        pytest.param(jwt.encode(_claims(), "another-key-of-enough-length-000000", algorithm="HS256"), id="wrong-key"),
        pytest.param(jwt.encode(_claims(), KEY * 2, algorithm="HS512"), id="alg-not-allowed"),
        pytest.param(jwt.encode(_claims(aud="someone-else"), KEY, algorithm="HS256"), id="wrong-aud"),
        pytest.param(jwt.encode(_claims(iss="evil"), KEY, algorithm="HS256"), id="wrong-iss"),
        pytest.param(jwt.encode(_claims(typ="refresh"), KEY, algorithm="HS256"), id="wrong-typ"),
        pytest.param(
            jwt.encode(_claims(exp=int(datetime.now(UTC).timestamp()) - 1), KEY, algorithm="HS256"), id="expired"
        ),
        pytest.param(jwt.encode(_claims(jti=None), KEY, algorithm="HS256"), id="missing-jti"),
        pytest.param(jwt.encode(_claims(sub="not-a-uuid"), KEY, algorithm="HS256"), id="bad-sub"),
        pytest.param("not.a.jwt", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
def test_forged_or_foreign_tokens_are_refused(token: str) -> None:
    with pytest.raises(AuthenticationFailed):
        ISSUER.decode(token)


def test_a_verified_token_is_refused_once_it_expires() -> None:
    now = [time.time()]
    issuer = JwtAccessTokenIssuer(KEY, "scribe-api", "scribe", timedelta(minutes=15), clock=lambda: now[0])
    token = issuer.issue(uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)).token
    issuer.decode(token)  # verified and remembered
    now[0] += 15 * 60 + 1
    with pytest.raises(AuthenticationFailed):
        issuer.decode(token)


def test_a_forged_token_is_never_remembered_as_valid() -> None:
    issuer = JwtAccessTokenIssuer(KEY, "scribe-api", "scribe", timedelta(minutes=15))
    forged = jwt.encode(_claims(), "an attacker's key that is long enough", algorithm="HS256")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            issuer.decode(forged)
