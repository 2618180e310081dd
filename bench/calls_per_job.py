"""Upstream calls and tokens for one `learning` job (summary + topics + mind map), against the strict fake provider.

    .venv/bin/python bench/calls_per_job.py

Two jobs, each through the real app and the real SDKs, chain anthropic → openai → local:
- a 600-word lecture (fits any model's context);
- a 20,000-word lecture on an Anthropic model with an 8k context (map-reduce).
Prints, per job: the upstream calls by provider and kind (a call asking for several outputs at once shows them
joined, `summary+topics+mind_map`), input/output tokens the fake counted, who served each output, and the tokens
and cost the answer reports. Expected since one call per request: 1 call for the 600-word lecture, and for the
20k-word one the map calls plus 1 reduce call. Asserts nothing. See bench/README.md."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litestar.testing import TestClient  # noqa: E402
from process_bench import TRANSCRIPT  # noqa: E402  (bench/ is on sys.path when run as a script)
from tests.conftest import make_settings  # noqa: E402
from tests.fakes.llm_server import FakeLLMServer  # noqa: E402

from infrastructure.persistence import migrations  # noqa: E402
from interfaces.http.app import create_app  # noqa: E402


def run(fake: FakeLLMServer, transcript: str, **settings: Any) -> dict[str, Any]:
    database = Path(tempfile.mkdtemp()) / "bench.db"
    url = f"sqlite+aiosqlite:///{database}"
    migrations.upgrade(url)
    values = {
        "anthropic_api_key": "bench-key",
        "anthropic_base_url": fake.url,
        "openai_api_key": "bench-key",
        "openai_base_url": f"{fake.url}/v1",
        "ai_chain": ["anthropic", "openai", "local"],
        **settings,
    }
    fake.reset()
    with TestClient(create_app(msgspec.structs.replace(make_settings(database_url=url), **values))) as client:
        token = client.post(
            "/api/v1/auth/register", json={"email": "bench@example.com", "password": "violet kettle umbrella 42"}
        ).json()["data"]["access_token"]
        response = client.post(
            "/api/v1/process",
            json={"transcript": transcript, "purpose": "learning", "language": "en"},
            headers={"Authorization": f"Bearer {token}"},
        )
    answer: dict[str, Any] = response.json()
    return answer


def report(title: str, fake: FakeLLMServer, answer: dict[str, Any]) -> None:
    calls = [r for r in fake.requests if r.kind]
    by = Counter(f"{r.provider}/{r.kind}" for r in calls)
    tokens_in = sum(len(r.prompt) // 4 for r in calls)
    print(f"\n== {title}")
    print(f"upstream calls: {len(calls)}  ({', '.join(f'{k} x{v}' for k, v in sorted(by.items()))})")
    print(f"input tokens sent (fake's count, ~4 chars a token): {tokens_in}")
    data = answer.get("data") or {}
    if not answer.get("success"):
        print(f"answer: {answer.get('code')} {answer.get('error')}")
        return
    served = data.get("served_by") or {}
    print("served by: " + ", ".join(f"{k}={v if isinstance(v, str) else v.get('provider')}" for k, v in served.items()))
    print(f"answer's tokens: {data['tokens']}  cost_usd: {data['cost_usd']}")


def main() -> None:
    with FakeLLMServer() as fake:
        report("600-word lecture", fake, run(fake, TRANSCRIPT))
        long_lecture = " ".join([TRANSCRIPT] * (20_000 // len(TRANSCRIPT.split()) + 1))
        report(
            "20k-word lecture, Anthropic with an 8k context",
            fake,
            run(fake, long_lecture, anthropic_context_tokens=8000),
        )


if __name__ == "__main__":
    main()
