"""The prototype's health and dictionary routes keep their exact contract."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api


def test_health_get(api: Api) -> None:
    response = api.client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["data"]["status"] == "ok"


@pytest.mark.parametrize("payload", [{"ping": "pong", "n": [1, 2]}, ["a", 1], "text", 3.5])
def test_health_post_echoes_the_json_body_as_message(api: Api, payload: object) -> None:
    response = api.client.post("/api/health", json=payload)
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"status": "ok", "message": payload}}


PURPOSES = [
    {"code": "learning", "label": "Nauka"},
    {"code": "social_media", "label": "Media społecznościowe"},
    {"code": "custom", "label": "Niestandardowy"},
]
LANGUAGES = [{"code": "pl", "label": "Polski"}, {"code": "en", "label": "English"}]


@pytest.mark.parametrize(("code", "entries"), [("purpose", PURPOSES), ("language", LANGUAGES)])
def test_dictionaries_by_query_and_by_path(api: Api, code: str, entries: list[dict[str, str]]) -> None:
    for url in (f"/api/dictionary?code={code}", f"/api/v1/dictionary/{code}"):
        response = api.client.get(url)
        assert response.status_code == 200
        assert response.json() == {"success": True, "data": entries}


@pytest.mark.parametrize(
    "url", ["/api/dictionary", "/api/dictionary?code=", "/api/dictionary?code=colour", "/api/v1/dictionary/colour"]
)
def test_unknown_or_missing_dictionary_is_400(api: Api, url: str) -> None:
    response = api.client.get(url)
    assert response.status_code == 400
    assert response.json()["success"] is False
