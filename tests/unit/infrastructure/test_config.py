from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from infrastructure.bootstrap.settings import ConfigError, load_settings, masked

KEY = base64.b64encode(b"k" * 32).decode()
PRODUCTION = {
    "SCRIBE_ENV": "production",
    "SCRIBE_SECRET_KEY": "yB3kR9-vQ2mT7xW4_pL8nZ6cH1sJ5dF0gK3aE9uV2iO",
    "SCRIBE_DATABASE_URL": "postgresql+asyncpg://scribe:hunter2@db:5432/scribe",
    "SCRIBE_REDIS_URL": "redis://:redispw@cache:6379/0",
    "SCRIBE_ENCRYPTION_KEYS": f"v1:{KEY}",
    "SCRIBE_CORS_ORIGINS": "https://app.example.com",
    "SCRIBE_EMAIL_BACKEND": "smtp",
    "SCRIBE_SMTP_HOST": "smtp.example.com",
    "SCRIBE_SMTP_PASSWORD": "smtp-secret",
}


def test_defaults_are_the_embedded_runtime() -> None:
    settings = load_settings({}, config_dir=Path("/nonexistent"))
    assert settings.database_url == "sqlite+aiosqlite:///./scribe.db"
    assert settings.redis_url is None
    assert settings.cors_origins == ["http://localhost:3000"]
    assert settings.effective_log_format == "console"


def test_env_values_are_typed_and_lists_split() -> None:
    settings = load_settings(
        {"SCRIBE_PORT": "9000", "SCRIBE_CORS_ORIGINS": "http://a.test, http://b.test", "SCRIBE_SMTP_STARTTLS": "false"},
        config_dir=Path("/nonexistent"),
    )
    assert settings.port == 9000
    assert settings.cors_origins == ["http://a.test", "http://b.test"]
    assert settings.smtp_starttls is False


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SCRIBE_PORT": "eighty"}, "SCRIBE_PORT"),
        ({"SCRIBE_ENV": "prod"}, "SCRIBE_ENV"),
        ({"SCRIBE_WORKERS": "0"}, "SCRIBE_WORKERS"),
        ({"SCRIBE_SECRET_KEY": "short"}, "SCRIBE_SECRET_KEY"),
        ({"SCRIBE_ENCRYPTION_KEYS": "v1:not-base64"}, "SCRIBE_ENCRYPTION_KEYS"),
        ({"SCRIBE_DATABSE_URL": "typo"}, "SCRIBE_DATABSE_URL"),
        ({"SCRIBE_EMAIL_BACKEND": "smtp"}, "SCRIBE_SMTP_HOST"),
        ({"SCRIBE_CORS_ORIGINS": "*", "SCRIBE_CORS_ALLOW_CREDENTIALS": "true"}, "SCRIBE_CORS_ALLOW_CREDENTIALS"),
        ({"SCRIBE_WORKERS": "2"}, "SCRIBE_REDIS_URL"),  # each process would keep its own revocations
        ({"SCRIBE_AI_REQUEST_BUDGET_SECONDS": "0"}, "SCRIBE_AI_REQUEST_BUDGET_SECONDS"),
        ({"SCRIBE_RESULT_CACHE_SECONDS": "-1"}, "SCRIBE_RESULT_CACHE_SECONDS"),  # 0 turns the cache off
        ({"SCRIBE_SINGLE_FLIGHT_LEASE_SECONDS": "0"}, "SCRIBE_SINGLE_FLIGHT_LEASE_SECONDS"),
        ({"SCRIBE_CACHE_WARM_BUDGET_TOKENS": "-5"}, "SCRIBE_CACHE_WARM_BUDGET_TOKENS"),
        ({"SCRIBE_SHUTDOWN_GRACE_SECONDS": "0"}, "SCRIBE_SHUTDOWN_GRACE_SECONDS"),
        ({"SCRIBE_REVOCATION_RELAY_SECONDS": "0"}, "SCRIBE_REVOCATION_RELAY_SECONDS"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(environ, config_dir=Path("/nonexistent"))


def test_a_complete_production_configuration_is_accepted() -> None:
    settings = load_settings(PRODUCTION, config_dir=Path("/nonexistent"))
    assert settings.effective_log_format == "json"
    assert list(settings.encryption_keyring()) == ["v1"]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"SCRIBE_SECRET_KEY": None}, "SCRIBE_SECRET_KEY"),
        ({"SCRIBE_DATABASE_URL": "sqlite+aiosqlite:///./scribe.db"}, "SCRIBE_DATABASE_URL"),
        ({"SCRIBE_CORS_ORIGINS": "*"}, "SCRIBE_CORS_ORIGINS"),
        ({"SCRIBE_ENCRYPTION_KEYS": None}, "SCRIBE_ENCRYPTION_KEYS"),
        ({"SCRIBE_REDIS_URL": None}, "SCRIBE_REDIS_URL"),
        ({"SCRIBE_EMAIL_BACKEND": "log"}, "SCRIBE_EMAIL_BACKEND"),
    ],
)
@pytest.mark.parametrize("env", ["production", "staging"])
def test_deployed_environments_refuse_unsafe_settings(override: dict[str, str | None], named: str, env: str) -> None:
    environ = {k: v for k, v in {**PRODUCTION, "SCRIBE_ENV": env, **override}.items() if v is not None}
    with pytest.raises(ConfigError, match=named):
        load_settings(environ, config_dir=Path("/nonexistent"))


@pytest.mark.parametrize("url", ["https://app.example/reset", "https://app.example/{token}/{token}"])
def test_the_reset_url_must_hold_the_token_once(url: str) -> None:
    with pytest.raises(ConfigError, match="SCRIBE_PASSWORD_RESET_URL"):
        load_settings({"SCRIBE_PASSWORD_RESET_URL": url}, config_dir=Path("/nonexistent"))


def test_toml_file_is_layered_under_the_environment(tmp_path: Path) -> None:
    (tmp_path / "test.toml").write_text('port = 7000\nlog_level = "debug"\n')
    settings = load_settings({"SCRIBE_ENV": "test", "SCRIBE_PORT": "7100"}, config_dir=tmp_path)
    assert (settings.port, settings.log_level) == (7100, "debug")


def test_masked_config_shows_no_secret() -> None:
    shown = masked(load_settings(PRODUCTION, config_dir=Path("/nonexistent")))
    text = repr(shown)
    for secret in ("s" * 48, "hunter2", "redispw", KEY, "smtp-secret"):
        assert secret not in text
    assert shown["database_url"] == "postgresql+asyncpg://scribe:********@db:5432/scribe"
    assert shown["port"] == 8000


def test_ai_settings_are_parsed_and_checked() -> None:
    settings = load_settings(
        {"SCRIBE_AI_CHAIN": "openai, local", "SCRIBE_AI_PRICES": "llama3:8b=0.1/0.2,gpt-4.1=2/8"},
        config_dir=Path("/nonexistent"),
    )
    assert settings.ai_chain == ["openai", "local"]
    assert settings.ai_prices == {"llama3:8b": [0.1, 0.2], "gpt-4.1": [2.0, 8.0]}
    for environ, variable in [
        ({"SCRIBE_AI_CHAIN": "openai,skynet"}, "SCRIBE_AI_CHAIN"),
        ({"SCRIBE_AI_PRICES": "gpt-4.1=2"}, "SCRIBE_AI_PRICES"),
        ({"SCRIBE_AI_PRICES": "gpt-4.1=-1/2"}, "SCRIBE_AI_PRICES"),
        ({"SCRIBE_COMPATIBLE_CONTEXT_TOKENS": "3000"}, "SCRIBE_COMPATIBLE_CONTEXT_TOKENS"),
        ({"SCRIBE_COMPATIBLE_BASE_URL": "http://127.0.0.1:11434/v1"}, "SCRIBE_COMPATIBLE_MODELS"),
        ({"SCRIBE_OPENAI_API_KEYS": "sk-typo"}, "SCRIBE_OPENAI_API_KEYS"),
    ]:
        with pytest.raises(ConfigError, match=variable):
            load_settings(environ, config_dir=Path("/nonexistent"))


def test_provider_keys_are_masked_in_the_effective_config() -> None:
    settings = load_settings({"SCRIBE_ANTHROPIC_API_KEY": "sk-ant-secret-123"}, config_dir=Path("/nonexistent"))
    assert masked(settings)["anthropic_api_key"] == "********"
    assert "sk-ant-secret" not in repr(masked(settings))


@pytest.mark.parametrize(
    "weak",
    ["a" * 32, "a" * 500, "ab" * 40, "0123456789" * 4, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"],
)
@pytest.mark.parametrize("env", ["development", "production"])
def test_a_secret_key_without_enough_entropy_is_refused_whatever_its_length(weak: str, env: str) -> None:
    environ = {**PRODUCTION, "SCRIBE_ENV": env, "SCRIBE_SECRET_KEY": weak}
    with pytest.raises(ConfigError, match="SCRIBE_SECRET_KEY"):
        load_settings(environ, config_dir=Path("/nonexistent"))


@pytest.mark.parametrize("strong", [secrets.token_urlsafe(32), secrets.token_hex(32), secrets.token_urlsafe(24)])
def test_a_generated_secret_key_is_accepted(strong: str) -> None:
    settings = load_settings({**PRODUCTION, "SCRIBE_SECRET_KEY": strong}, config_dir=Path("/nonexistent"))
    assert settings.secret_key == strong


def test_docs_are_off_in_production_unless_enabled() -> None:
    nowhere = Path("/nonexistent")
    assert load_settings(PRODUCTION, config_dir=nowhere).serves_docs is False
    assert load_settings({**PRODUCTION, "SCRIBE_DOCS_ENABLED": "true"}, config_dir=nowhere).serves_docs is True
    assert load_settings({**PRODUCTION, "SCRIBE_ENV": "staging"}, config_dir=nowhere).serves_docs is True
    assert load_settings({}, config_dir=nowhere).serves_docs is True
    assert load_settings({"SCRIBE_DOCS_ENABLED": "false"}, config_dir=nowhere).serves_docs is False


def test_tier_limits_take_numbers_or_unlimited_from_the_environment_and_the_toml_file(tmp_path: Path) -> None:
    (tmp_path / "test.toml").write_text('tier_pro_jobs_per_day = "unlimited"\ntier_free_jobs_per_day = 5\n')
    settings = load_settings(
        {
            "SCRIBE_ENV": "test",
            "SCRIBE_TIER_FREE_REQUESTS_PER_MINUTE": "Unlimited",
            "SCRIBE_TIER_BYOK_JOBS_PER_DAY": "0",
        },
        config_dir=tmp_path,
    )
    assert settings.tier_free_requests_per_minute is None
    assert settings.tier_free_jobs_per_day == 5
    assert settings.tier_pro_jobs_per_day is None
    assert settings.tier_byok_jobs_per_day == 0  # no job on the server's keys: a choice, not a mistake


@pytest.mark.parametrize(("name", "value"), [("TIER_FREE_REQUESTS_PER_MINUTE", "0"), ("TIER_PRO_JOBS_PER_DAY", "-1")])
def test_a_tier_limit_below_its_minimum_stops_start_up_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"SCRIBE_{name}"):
        load_settings({f"SCRIBE_{name}": value}, config_dir=Path("/nonexistent"))
