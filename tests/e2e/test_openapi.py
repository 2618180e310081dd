"""OpenAPI 3.1 at /schema/openapi.json, and interactive docs served from our own package (no CDN)."""

from __future__ import annotations

import re

from infrastructure.bootstrap.settings import Settings
from tests.e2e.conftest import Api, make_client


def test_every_operation_is_documented(api: Api) -> None:
    response = api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) >= 15
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), f"{where} has no summary"
        assert any(code.startswith("2") for code in op["responses"]), where
        assert _has_example(spec, op), f"{where} has no example"
        if method in ("post", "put", "patch"):
            assert "400" in op["responses"], f"{where} documents no 400"
        if op.get("security"):
            assert "401" in op["responses"], f"{where} documents no 401"
        for status, response in op["responses"].items():  # Litestar's own 400 shape is not what we send
            if not status.startswith("2"):
                assert "ErrorBody" in str(response), f"{where} documents {status} without the envelope"


def _has_example(spec: dict, op: dict) -> bool:  # type: ignore[type-arg]
    """An example in the operation itself, or in the schema of its request body."""
    if "'examples'" in str(op):
        return True
    ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return bool(ref) and "'examples'" in str(spec["components"]["schemas"][ref.rsplit("/", 1)[1]])


def test_the_docs_page_uses_only_local_assets(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(s.startswith("/docs/assets/") for s in sources)
    for source in sources:
        asset = api.client.get(source)
        assert asset.status_code == 200, source
        assert asset.content, source
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_path_value_over_its_limit_is_the_documented_400(api: Api) -> None:
    access = api.register()["access_token"]
    response = api.client.delete("/api/v1/me/api-keys/" + "x" * 60, headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    operation = api.client.get("/schema/openapi.json").json()["paths"]["/api/v1/me/api-keys/{provider}"]["delete"]
    assert "400" in operation["responses"]


def test_docs_can_be_switched_off(settings: Settings) -> None:
    from tests.conftest import make_settings

    off = make_settings(database_url=settings.database_url, docs_enabled="false")
    with make_client(off) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/schema/openapi.json").status_code == 404


def test_error_responses_name_the_codes_the_routes_use_cases_raise(api: Api) -> None:
    spec = api.client.get("/schema/openapi.json").json()
    process = spec["paths"]["/api/v1/process"]["post"]["responses"]
    assert "`captions_unavailable`" in process["422"]["description"]
    assert "`transcript_unusable`" in process["422"]["description"]
    assert "`youtube_unreachable`" in process["502"]["description"]
    assert "`ai_providers_failed`" in process["502"]["description"]
    assert "`ai_providers_unavailable`" in process["503"]["description"]  # the table's variant for a cooldown
    assert "`email_taken`" in spec["paths"]["/api/v1/auth/register"]["post"]["responses"]["409"]["description"]
    save_key = spec["paths"]["/api/v1/me/api-keys/{provider}"]["put"]["responses"]
    assert "`provider_key_rejected`" in save_key["422"]["description"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if "requestBody" in op:  # every JSON body may be too large or not JSON
                assert {"400", "413", "415"} <= set(op["responses"]), f"{method.upper()} {path}"
