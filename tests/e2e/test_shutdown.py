"""SIGTERM on a real `scribe serve`: requests in flight finish within SCRIBE_SHUTDOWN_GRACE_SECONDS, and a
request still running then does not hold the shutdown (seen: SIGTERM waited 180 s for a trickling upstream)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.data import TRANSCRIPT
from tests.fakes.llm_server import Behaviour, FakeLLMServer
from tests.own_services import free_port
from tests.services import SCRIBE, clean_env, wait_until_serving

GRACE = 2


def _serve(tmp_path: Path, llm: FakeLLMServer) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = clean_env(
        SCRIBE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'scribe.db'}",
        SCRIBE_ANTHROPIC_API_KEY="server-key",
        SCRIBE_ANTHROPIC_BASE_URL=llm.url,
        SCRIBE_AI_CHAIN="anthropic",
        SCRIBE_AI_TIMEOUT_SECONDS="60",
        SCRIBE_SHUTDOWN_GRACE_SECONDS=str(GRACE),
    )
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [SCRIBE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(process, base)
    return process, base


def _process_in_background(base: str) -> dict[str, Any]:
    outcome: dict[str, Any] = {}

    def call() -> None:
        body = {"transcript": TRANSCRIPT, "purpose": "learning", "language": "en"}
        try:
            outcome["status"] = httpx.post(f"{base}/api/ai/process-transcript", json=body, timeout=90).status_code
        except httpx.TransportError as error:
            outcome["error"] = type(error).__name__

    outcome["thread"] = threading.Thread(target=call)
    outcome["thread"].start()
    return outcome


def _terminate_once_asked(process: subprocess.Popen[bytes], llm: FakeLLMServer) -> float:
    deadline = time.monotonic() + 10
    while not llm.requests:
        assert time.monotonic() < deadline, "the provider was never asked"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    return time.monotonic()


def test_a_request_in_flight_finishes_during_the_grace_period(tmp_path: Path, llm: FakeLLMServer) -> None:
    llm.default = Behaviour(delay=1.0)
    process, base = _serve(tmp_path, llm)
    try:
        outcome = _process_in_background(base)
        _terminate_once_asked(process, llm)
        outcome["thread"].join(timeout=30)
        assert outcome.get("status") == 200, outcome
        assert process.wait(timeout=GRACE + 10) is not None
    finally:
        process.kill()


def test_a_request_still_running_after_the_grace_period_does_not_hold_the_shutdown(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    llm.default = Behaviour(trickle=1.0)  # within its 60 s timeout, and far from done
    process, base = _serve(tmp_path, llm)
    try:
        outcome = _process_in_background(base)
        signalled = _terminate_once_asked(process, llm)
        process.wait(timeout=GRACE + 10)
        assert time.monotonic() - signalled < GRACE + 3
        outcome["thread"].join(timeout=30)
    finally:
        process.kill()
