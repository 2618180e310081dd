"""The envelope and error table for what Litestar raises, plus headers every response carries."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from dishka import Provider, Scope, provide

from application.ports import SessionRepository, UsageRepository
from infrastructure.bootstrap.settings import Settings
from tests.e2e.conftest import Api, bearer, make_client, unique_email


def _error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["code"] == code
    assert body["error"]
    return body  # type: ignore[no-any-return]


def test_unknown_routes_are_404_in_the_envelope(api: Api) -> None:
    _error(api.client.get("/api/v1/nothing-here"), 404, "not_found")
    _error(api.client.get("/"), 404, "not_found")


def test_wrong_methods_are_405(api: Api) -> None:
    _error(api.client.delete("/api/v1/auth/login"), 405, "method_not_allowed")
    _error(api.client.put("/api/health"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/health", "GET, OPTIONS, POST"),
        ("/api/v1/auth/profile", "GET, OPTIONS, PATCH"),
        ("/api/v1/me/api-keys/anthropic", "DELETE, OPTIONS, PUT"),
        ("/api/v1/me/tokens", "GET, OPTIONS, POST"),
    ],
)
def test_allow_names_every_method_of_a_shared_path(api: Api, path: str, methods: str) -> None:
    for method in ("OPTIONS", "TRACE"):
        response = api.client.request(method, path)
        assert response.status_code == (204 if method == "OPTIONS" else 405), f"{method} {path}"
        assert ", ".join(sorted(response.headers["allow"].split(", "))) == methods, f"{method} {path}"


def test_bodies_over_the_limit_are_413(settings: Settings) -> None:
    small = msgspec.structs.replace(settings, max_body_bytes=1024)
    with make_client(small) as client:
        big = {"email": "a@example.com", "password": "x" * 2000}
        _error(client.post("/api/v1/auth/login", json=big), 413, "payload_too_large")
        _error(client.post("/api/health", json={"blob": "y" * 5000}), 413, "payload_too_large")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/auth/login", "text/plain"),
        ("/api/v1/auth/register", "application/x-www-form-urlencoded"),
        ("/api/health", "text/plain"),
        ("/api/health", "multipart/form-data; boundary=x"),
    ],
)
def test_non_json_bodies_are_415(api: Api, path: str, content_type: str) -> None:
    response = api.client.post(path, content=b"email=a&password=b", headers={"Content-Type": content_type})
    _error(response, 415, "unsupported_media_type")


def test_json_with_a_charset_or_a_vendor_type_is_accepted(api: Api) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.scribe+json"):
        response = api.client.post("/api/health", content=b'{"ping": 1}', headers={"Content-Type": content_type})
        assert response.status_code == 200


def test_malformed_json_is_a_clear_400(api: Api) -> None:
    response = api.client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    _error(response, 400, "invalid_json")


class _BrokenUsage(Provider):
    @provide(scope=Scope.REQUEST)
    def usage(self) -> UsageRepository:
        raise RuntimeError("secret internals: connection string postgres://user:pw@db")


@pytest.fixture
def broken_api(settings: Settings) -> Iterator[Api]:
    with make_client(settings, _BrokenUsage()) as client:
        yield Api(client)


def test_a_crash_is_a_500_without_internals(broken_api: Api) -> None:
    tokens = broken_api.register()
    response = broken_api.client.get("/api/v1/me/usage", headers=bearer(tokens["access_token"]))
    body = _error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_security_headers_are_on_every_response(api: Api) -> None:
    for response in (api.client.get("/api/health"), api.client.get("/missing"), api.client.post("/api/v1/auth/login")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_request_ids_are_echoed_or_made(api: Api) -> None:
    echoed = api.client.get("/api/health", headers={"X-Request-ID": "abc-123.trace"})
    assert echoed.headers["X-Request-ID"] == "abc-123.trace"
    made = api.client.get("/api/health", headers={"X-Request-ID": "bad id with spaces;&"})
    assert len(made.headers["X-Request-ID"]) == 32
    assert " " not in made.headers["X-Request-ID"]
    failed = api.client.get("/nope", headers={"X-Request-ID": "trace-404"})
    assert failed.json()["request_id"] == "trace-404"


def test_cors_allows_the_configured_origin_only(api: Api) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = api.client.options("/api/v1/auth/login", headers={"Origin": "http://localhost:3000", **preflight})
    assert allowed.status_code in (200, 204)
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"

    simple = api.client.get("/api/health", headers={"Origin": "http://localhost:3000"})
    assert simple.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"

    foreign = api.client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_enumeration_login_answers_the_same_for_unknown_and_wrong(api: Api) -> None:
    known = api.register()["user"]["email"]
    headers = {"X-Request-ID": "same-id"}
    unknown = api.client.post(
        "/api/v1/auth/login", json={"email": "nobody-" + known, "password": "wrong password!"}, headers=headers
    )
    wrong = api.client.post("/api/v1/auth/login", json={"email": known, "password": "wrong password!"}, headers=headers)
    assert (unknown.status_code, unknown.content) == (wrong.status_code, wrong.content)


def test_enumeration_forgot_password_answers_the_same(api: Api) -> None:
    known = api.register()["user"]["email"]
    headers = {"X-Request-ID": "same-id"}
    a = api.client.post("/api/v1/auth/forgot-password", json={"email": known}, headers=headers)
    b = api.client.post("/api/v1/auth/forgot-password", json={"email": "nobody-" + known}, headers=headers)
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert a.status_code == 202


def test_registering_a_taken_email_is_409(api: Api) -> None:
    email = api.register()["user"]["email"]
    response = api.client.post("/api/v1/auth/register", json={"email": email.upper(), "password": "other words here"})
    _error(response, 409, "email_taken")


def test_api_answers_may_not_be_cached(api: Api) -> None:
    registered = api.client.post(
        "/api/v1/auth/register", json={"email": unique_email(), "password": "violet kettle 42!"}
    )
    assert registered.headers["Cache-Control"] == "no-store"
    assert api.client.get("/api/health").headers["Cache-Control"] == "no-store"


def test_absurdly_nested_json_is_a_400(api: Api) -> None:
    body = b"[" * 50_000 + b"]" * 50_000
    response = api.client.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
    _error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/api/v1/auth/login", {"email": "a\u0000@example.com", "password": "violet kettle 42!"}, 401),
        ("/api/v1/auth/forgot-password", {"email": "a\u0000@example.com"}, 202),
        ("/api/v1/auth/register", {"email": "a\u0000@example.com", "password": "violet kettle 42!"}, 400),
    ],
)
def test_nul_characters_are_client_errors_on_every_database(
    api: Api, path: str, payload: dict[str, str], status: int
) -> None:
    assert api.client.post(path, json=payload).status_code == status


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_cursor_with_an_impossible_time_is_a_400(api: Api, moment: str) -> None:
    import base64
    import json
    import uuid

    cursor = base64.urlsafe_b64encode(json.dumps([moment, str(uuid.uuid4())]).encode()).decode().rstrip("=")
    tokens = api.register()
    response = api.client.get(f"/api/v1/me/tokens?cursor={cursor}", headers=bearer(tokens["access_token"]))
    _error(response, 400, "invalid_cursor")


class _BrokenSessions(Provider):
    """Session storage fails after the user row was written in the same transaction."""

    @provide(scope=Scope.REQUEST)
    def sessions(self) -> SessionRepository:
        class Broken:
            async def add(self, session: object) -> None:
                raise OSError("disk full")

        return Broken()  # type: ignore[return-value]


def test_a_failure_half_way_stores_nothing(settings: Settings) -> None:
    email = unique_email()
    with make_client(settings, _BrokenSessions()) as client:
        failed = client.post("/api/v1/auth/register", json={"email": email, "password": "violet kettle 42!"})
        assert failed.status_code == 500
    with make_client(settings) as client:
        again = client.post("/api/v1/auth/register", json={"email": email, "password": "violet kettle 42!"})
        assert again.status_code == 201  # the first attempt left no user behind


def test_registrations_are_limited_per_address(settings: Settings) -> None:
    limited = msgspec.structs.replace(settings, registrations_per_ip=2)
    with make_client(limited) as client:
        for _ in range(2):
            body = {"email": unique_email(), "password": "violet kettle 42!"}
            assert client.post("/api/v1/auth/register", json=body).status_code == 201
        refused = client.post("/api/v1/auth/register", json={"email": unique_email(), "password": "violet kettle 42!"})
        _error(refused, 429, "too_many_requests")
        assert int(refused.headers["Retry-After"]) > 0
