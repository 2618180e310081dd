"""`scribe` commands as a user runs them: the same use cases as the API, on a real database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.services import HEAD_REVISION, clean_env, run_scribe

PASSWORD = "violet kettle umbrella 42"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return clean_env(
        SCRIBE_DATABASE_URL=database_url,
        SCRIBE_ARGON2_MEMORY_KIB="1024",
        SCRIBE_ARGON2_TIME_COST="1",
        SCRIBE_LOG_FORMAT="json",
    )


def test_users_create_list_set_tier_disable_enable(env: dict[str, str]) -> None:
    email = f"cli-{os.urandom(4).hex()}@example.com"
    created = run_scribe(
        "users", "create", email, "--admin", "--tier", "pro", "--password-stdin", env=env, stdin=PASSWORD
    )
    assert created.returncode == 0, created.stderr
    assert "role=admin" in created.stdout
    assert "tier=pro" in created.stdout

    listed = run_scribe("users", "list", "--limit", "100", env={**env, "COLUMNS": "250"})
    assert email in listed.stdout

    assert "tier=byok" in run_scribe("users", "set-tier", email, "byok", env=env).stdout
    assert "disabled" in run_scribe("users", "disable", email, env=env).stdout
    assert "active" in run_scribe("users", "enable", email, env=env).stdout


def test_users_create_applies_the_password_rules_and_refuses_duplicates(env: dict[str, str]) -> None:
    email = f"cli-{os.urandom(4).hex()}@example.com"
    weak = run_scribe("users", "create", email, "--password-stdin", env=env, stdin="password1234")
    assert weak.returncode != 0
    assert "password" in weak.stderr
    assert run_scribe("users", "create", email, "--password-stdin", env=env, stdin=PASSWORD).returncode == 0
    again = run_scribe("users", "create", email.upper(), "--password-stdin", env=env, stdin=PASSWORD)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def test_commands_on_a_missing_user_fail_clearly(env: dict[str, str]) -> None:
    result = run_scribe("users", "disable", "nobody-here@example.com", env=env)
    assert result.returncode == 1
    assert "not found" in result.stderr


def test_db_commands(tmp_path: Path) -> None:
    env = clean_env(SCRIBE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    assert "no revision" in run_scribe("db", "current", env=env).stdout
    assert f"{HEAD_REVISION} (head)" in run_scribe("db", "upgrade", env=env).stdout
    assert f"{HEAD_REVISION} (head)" in run_scribe("db", "current", env=env).stdout
    assert "no revision" in run_scribe("db", "downgrade", "base", env=env).stdout


def test_config_check_masks_secrets_and_names_bad_variables() -> None:
    base = clean_env()
    shown = run_scribe(
        "config",
        "check",
        env={
            **base,
            "SCRIBE_SECRET_KEY": "s3cr3t-Qm7vX2pL9sK4wN8eR1tY6uB3cF5hJ0dG",
            "SCRIBE_DATABASE_URL": "postgresql+asyncpg://u:pw@h/db",
        },
    )
    assert shown.returncode == 0
    assert "s3cr3t" not in shown.stdout
    assert ":pw@" not in shown.stdout
    assert '"secret_key": "********"' in shown.stdout

    bad = run_scribe("config", "check", env={**base, "SCRIBE_PORT": "eighty"})
    assert bad.returncode != 0
    assert "SCRIBE_PORT" in bad.stderr

    production = run_scribe("config", "check", env={**base, "SCRIBE_ENV": "production"})
    assert production.returncode != 0
    for variable in ("SCRIBE_SECRET_KEY", "SCRIBE_DATABASE_URL", "SCRIBE_ENCRYPTION_KEYS"):
        assert variable in production.stderr


DATA = Path(__file__).parents[1] / "data" / "transcripts"


def test_process_prints_the_outputs_of_the_local_provider(env: dict[str, str]) -> None:
    shown = run_scribe(
        "process", str(DATA / "en_lecture_sleep_memory.vtt"), "--language", "en", env={**env, "COLUMNS": "120"}
    )
    assert shown.returncode == 0, shown.stderr
    for title in ("summary", "Key topics", "Mind map", "local/extractive-v2", "not saved"):
        assert title in shown.stdout


def test_process_json_saves_to_a_users_history_when_asked(env: dict[str, str]) -> None:
    import json

    email = f"cli-{os.urandom(4).hex()}@example.com"
    assert run_scribe("users", "create", email, "--password-stdin", env=env, stdin=PASSWORD).returncode == 0
    shown = run_scribe(
        "process",
        "-",
        "--output",
        "summary",
        "--output",
        "social_post",
        "--user",
        email,
        "--json",
        env=env,
        stdin=(DATA / "pl_talk_pszczoly_w_miescie.srt").read_text(encoding="utf-8"),
    )
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout)
    assert result["provider"] == "local"
    assert result["history_id"]
    assert result["transcript"]["source"] == "srt"
    assert set(result["served_by"]) == {"summary", "social_post"}


def test_process_refuses_what_it_cannot_read(env: dict[str, str]) -> None:
    missing = run_scribe("process", "/nonexistent/file.txt", env=env)
    assert missing.returncode != 0
    assert "neither a YouTube URL nor a readable file" in missing.stderr
    bad = run_scribe("process", "https://vimeo.com/123", env=env)
    assert bad.returncode != 0
    assert "not a YouTube video link" in bad.stderr


def test_serve_refuses_several_workers_without_redis(tmp_path: Path) -> None:
    """In-process state is per process: a logout on one worker would not reach the others."""
    env = clean_env(SCRIBE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'scribe.db'}")
    served = run_scribe("serve", "--workers", "2", "--port", "1", env=env)
    assert served.returncode != 0
    assert "SCRIBE_REDIS_URL" in served.stderr
