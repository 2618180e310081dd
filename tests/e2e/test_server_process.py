"""`scribe serve` as a real process: it migrates its own SQLite file, serves, and logs one JSON line per request."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.own_services import free_port
from tests.services import SCRIBE, clean_env, wait_until_serving

PASSWORD = "violet kettle umbrella 42"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path / "server.log"
    env = clean_env(
        SCRIBE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'scribe.db'}",
        SCRIBE_LOG_FORMAT="json",
        SCRIBE_ARGON2_MEMORY_KIB="1024",
        SCRIBE_ARGON2_TIME_COST="1",
        SCRIBE_EMAIL_RELAY_SECONDS="0.5",
    )
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [SCRIBE, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(process, base, log)
            yield base, log
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_serve_migrates_serves_and_logs_each_request_once_without_secrets(server: tuple[str, Path]) -> None:
    base, log = server
    registered = httpx.post(f"{base}/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD})
    assert registered.status_code == 201
    access = registered.json()["data"]["access_token"]
    refresh = registered.json()["data"]["refresh_token"]
    user_id = registered.json()["data"]["user"]["id"]
    profile = httpx.get(
        f"{base}/api/v1/auth/profile", headers={"Authorization": f"Bearer {access}", "X-Request-ID": "trace-42"}
    )
    assert profile.status_code == 200
    assert httpx.get(f"{base}/docs").status_code == 200
    transcript = (Path(__file__).parents[1] / "data" / "transcripts" / "en_podcast_heat_islands.txt").read_text()
    processed = httpx.post(
        f"{base}/api/ai/process-transcript", json={"transcript": transcript, "purpose": "learning"}, timeout=30
    )
    assert processed.status_code == 200, processed.text
    assert set(processed.json()["data"]) == {"summary", "topics", "mindMap"}
    compared = httpx.get(f"{base}/api/v1/providers", headers={"Authorization": f"Bearer {access}"})
    local = next(p for p in compared.json()["data"]["providers"] if p["name"] == "local")
    assert local["calls"] == 1  # one call for the summary, topics and mind map, answered offline
    assert httpx.post(f"{base}/api/v1/auth/forgot-password", json={"email": "ada@example.com"}).status_code == 202
    deadline = time.monotonic() + 15  # the outbox relay delivers through the log backend in development
    while '"to":"ada@example.com"' not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)

    text = log.read_text()
    for secret in (PASSWORD, access, refresh):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    (profile_line,) = [r for r in requests if r["request_id"] == "trace-42"]
    assert profile_line["method"] == "GET"
    assert profile_line["route"] == "/api/v1/auth/profile"
    assert profile_line["status"] == 200
    assert profile_line["user_id"] == user_id
    assert isinstance(profile_line["duration_ms"], float)
    assert {r["route"] for r in requests} >= {"/api/health", "/api/v1/auth/register", "/docs"}
    (mail,) = [line for line in lines if line.get("event") == "email"]
    assert mail["to"] == "ada@example.com"
    assert "reset-password?token=" in mail["body"]
