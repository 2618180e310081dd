"""Settings: `SCRIBE_*` environment variables over an optional `config/<env>.toml`, validated at start-up."""

from __future__ import annotations

import base64
import binascii
import math
import os
import tomllib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from application.processing.catalog import PROVIDER_NAMES

ENV_PREFIX = "SCRIBE_"
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"
MIN_SECRET_KEY_BITS = 128
SECRET_FIELDS = frozenset(
    {
        "secret_key",
        "encryption_keys",
        "smtp_password",
        "database_url",
        "redis_url",
        "anthropic_api_key",
        "openai_api_key",
        "gemini_api_key",
        "compatible_api_key",
    }
)
# USD per 1M tokens (input, output): public list prices, overridable with SCRIBE_AI_PRICES.
DEFAULT_AI_PRICES = {
    "claude-sonnet-4-6": [3.0, 15.0],
    "claude-haiku-4-5": [1.0, 5.0],
    "gpt-4.1-mini": [0.4, 1.6],
    "gpt-4.1": [2.0, 8.0],
    "gemini-2.5-flash": [0.3, 2.5],
    "gemini-2.5-pro": [1.25, 10.0],
    "gemini-2.5-flash-lite": [0.1, 0.4],
}
UNLIMITED = "unlimited"
_TIER_LIMIT_FIELDS = frozenset(
    f"tier_{tier}_{what}"
    for tier in ("free", "byok", "pro", "admin")
    for what in ("requests_per_minute", "jobs_per_day")
)
_LIST_FIELDS = frozenset(
    {"cors_origins", "ai_chain", "anthropic_models", "openai_models", "gemini_models", "compatible_models"}
)


class ConfigError(Exception):
    """The configuration cannot be used; the message names the variable."""


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    env: Literal["development", "staging", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = msgspec.field(default=8000)
    workers: int = 1
    shutdown_grace_seconds: int = 30  # on SIGTERM, how long requests in flight may take to finish
    database_url: str = "sqlite+aiosqlite:///./scribe.db"
    database_pool_size: int = 10
    redis_url: str | None = None
    redis_prefix: str = "scribe:"
    secret_key: str = DEV_SECRET_KEY
    jwt_audience: str = "scribe-api"
    jwt_issuer: str = "scribe"
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    session_max_days: int = 30
    password_reset_minutes: int = 30
    password_reset_url: str = "http://localhost:3000/reset-password?token={token}"
    encryption_keys: str | None = None
    cors_origins: list[str] = msgspec.field(default_factory=lambda: ["http://localhost:3000"])
    cors_allow_credentials: bool = False  # the prototype sent it; bearer tokens need no cookies
    max_body_bytes: int = 2 * 1024 * 1024
    trusted_proxy_hops: int = 0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] | None = None
    argon2_memory_kib: int = 19456  # OWASP: argon2id m=19 MiB, t=2, p=1
    argon2_time_cost: int = 2
    password_hash_concurrency: int = 2
    user_cache_seconds: float = 5.0
    login_failures_per_account_ip: int = 5
    login_failures_per_ip: int = 20
    login_failures_per_account: int = 50
    login_window_seconds: int = 900
    reset_requests_per_account: int = 5
    reset_requests_per_ip: int = 10
    registrations_per_ip: int = 20
    registration_window_seconds: int = 3600
    reset_window_seconds: int = 3600
    password_change_failures: int = 5
    provider_key_checks_per_hour: int = 10
    email_backend: Literal["log", "smtp"] = "log"
    email_from: str = "Scribe <no-reply@localhost>"
    email_relay_seconds: float = 5.0
    revocation_relay_seconds: float = 1.0
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    docs_enabled: bool | None = None  # None: served everywhere but production
    # AI providers. An empty chain means: every provider with a server key, in this order, else `local`.
    ai_chain: list[str] = msgspec.field(default_factory=list)
    ai_timeout_seconds: float = 60.0  # one provider call, start to last byte
    ai_request_budget_seconds: float = 120.0  # every call one request makes, fallbacks included
    ai_max_output_tokens: int = 4096
    ai_breaker_failures: int = 3
    ai_breaker_cooldown_seconds: float = 30.0
    ai_stats_window_seconds: int = 3600
    ai_map_concurrency: int = 4
    ai_prices: dict[str, list[float]] = msgspec.field(default_factory=lambda: dict(DEFAULT_AI_PRICES))
    anonymous_processing: bool | None = None  # None: allowed everywhere but production
    anonymous_requests_per_window: int = 100  # the prototype's limit: 100 requests / 15 min per address
    anonymous_window_seconds: int = 900
    # Tiers: requests a minute per user on the processing routes, and jobs a UTC day paid with the server's AI
    # keys (jobs on the user's own keys are not counted). "unlimited" lifts either; administrators have `admin`.
    tier_free_requests_per_minute: int | None = 60
    tier_free_jobs_per_day: int | None = 20
    tier_byok_requests_per_minute: int | None = 60
    tier_byok_jobs_per_day: int | None = None
    tier_pro_requests_per_minute: int | None = 300
    tier_pro_jobs_per_day: int | None = 500
    tier_admin_requests_per_minute: int | None = None
    tier_admin_jobs_per_day: int | None = None
    # While Redis does not answer, limits are counted in each process; Redis is tried again this often.
    limits_redis_retry_seconds: float = 1.0
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    anthropic_models: list[str] = msgspec.field(default_factory=lambda: ["claude-sonnet-4-6", "claude-haiku-4-5"])
    anthropic_context_tokens: int = 150_000
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_models: list[str] = msgspec.field(default_factory=lambda: ["gpt-4.1-mini", "gpt-4.1"])
    openai_context_tokens: int = 100_000
    gemini_api_key: str | None = None
    gemini_base_url: str = "https://generativelanguage.googleapis.com/v1beta/openai/"
    gemini_models: list[str] = msgspec.field(
        default_factory=lambda: ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"]
    )
    gemini_context_tokens: int = 200_000
    compatible_base_url: str | None = None  # any OpenAI-compatible endpoint: Ollama, vLLM, OpenRouter
    compatible_api_key: str | None = None
    compatible_models: list[str] = msgspec.field(default_factory=list)
    compatible_context_tokens: int = 30_000
    youtube_base_url: str = "https://www.youtube.com"
    youtube_timeout_seconds: float = 15.0
    result_cache_seconds: int = 86_400  # how long a processing answer is served again; 0: no result cache
    single_flight_lease_seconds: float = 15.0  # a dead leader's identical requests take over after this
    cache_warm_top_n: int = 20  # the most requested answers (last 24 h) recomputed before they expire; 0: none
    cache_warm_interval_seconds: float = 600.0
    cache_warm_budget_tokens: int = 200_000  # upstream tokens one warming run may spend, on the server's keys

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_deployed(self) -> bool:
        """Staging and production: reachable by others, so no public defaults."""
        return self.env in ("staging", "production")

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.env in ("production", "staging") else "console")

    @property
    def serves_docs(self) -> bool:
        """`/docs` and `/schema`: a map of the API is for developers, not for strangers probing production."""
        return not self.is_production if self.docs_enabled is None else self.docs_enabled

    @property
    def allows_anonymous_processing(self) -> bool:
        return not self.is_production if self.anonymous_processing is None else self.anonymous_processing

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def encryption_keyring(self) -> dict[str, bytes]:
        """`v2:<base64 32 bytes>,v1:...` → {"v2": key, "v1": key}; the first is the current version."""
        return parse_keyring(self.encryption_keys or "")


def parse_keyring(text: str) -> dict[str, bytes]:
    keyring: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        version, sep, encoded = item.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not sep or not version or len(key) != 32 or version in keyring:
            raise ConfigError(
                "SCRIBE_ENCRYPTION_KEYS must be 'version:base64-of-32-bytes' items separated by commas, versions unique"
            )
        keyring[version] = key
    return keyring


def load_settings(environ: Mapping[str, str] | None = None, config_dir: Path | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    env_name = environ.get(f"{ENV_PREFIX}ENV", "development")
    toml_path = (config_dir or Path("config")) / f"{env_name}.toml"
    if toml_path.is_file():
        try:
            raw.update(tomllib.loads(toml_path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{toml_path}: {error}") from None
    fields = {f.name: f for f in msgspec.structs.fields(Settings)}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key.removeprefix(ENV_PREFIX).lower()
        if name not in fields:
            raise ConfigError(f"{key} is not a known setting")
        if name in _LIST_FIELDS:
            raw[name] = [v.strip() for v in value.split(",") if v.strip()]
        elif name == "ai_prices":
            raw[name] = _parse_prices(value)
        else:
            raw[name] = value
    for name in _TIER_LIMIT_FIELDS & raw.keys():  # from the environment or the TOML file alike
        if isinstance(raw[name], str) and raw[name].strip().lower() == UNLIMITED:
            raw[name] = None
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise ConfigError(_name_the_variable(str(error))) from None
    _check(settings)
    return settings


def _parse_prices(text: str) -> dict[str, list[str]]:
    """`model=input/output,...` (USD per 1M tokens) → {"model": ["input", "output"]}; the struct checks numbers."""
    prices: dict[str, list[str]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        model, sep, pair = item.rpartition("=")
        if not sep or not model or pair.count("/") != 1:
            raise ConfigError(f"{ENV_PREFIX}AI_PRICES must be 'model=input/output' items (USD per 1M tokens)")
        prices[model.strip()] = pair.split("/")
    return prices


def _name_the_variable(message: str) -> str:
    # msgspec says "... - at `$.port`"; users set SCRIBE_PORT.
    text, _, path = message.partition(" - at `$.")
    if not path:
        return f"Invalid configuration: {message}"
    field = path.split("`")[0].split("[")[0]
    return f"{ENV_PREFIX}{field.upper()}: {text}"


def estimated_entropy_bits(text: str) -> float:
    """The text's length times the Shannon entropy of its character frequencies: `aaaa…` scores 0 whatever its
    length, a random base64 string about 4.5-6 bits a character. An upper bound (it cannot see words or
    patterns), so it only refuses keys that are certainly weak."""
    return sum(count * math.log2(len(text) / count) for count in Counter(text).values())


def _is_repetition(text: str) -> bool:
    """`abcabcabc`: a shorter unit repeated (the text reappears inside itself shifted by less than its length)."""
    return text in (text + text)[1:-1]


def _check(settings: Settings) -> None:
    problems = []
    positive = (
        "port",
        "workers",
        "shutdown_grace_seconds",
        "access_token_minutes",
        "refresh_token_days",
        "session_max_days",
        "password_reset_minutes",
        "max_body_bytes",
        "argon2_memory_kib",
        "argon2_time_cost",
        "password_hash_concurrency",
        "database_pool_size",
        "login_failures_per_account_ip",
        "login_failures_per_ip",
        "login_failures_per_account",
        "login_window_seconds",
        "reset_requests_per_account",
        "reset_requests_per_ip",
        "registrations_per_ip",
        "registration_window_seconds",
        "reset_window_seconds",
        "password_change_failures",
        "provider_key_checks_per_hour",
        "email_relay_seconds",
        "revocation_relay_seconds",
        "ai_timeout_seconds",
        "ai_request_budget_seconds",
        "ai_max_output_tokens",
        "ai_breaker_failures",
        "ai_breaker_cooldown_seconds",
        "ai_stats_window_seconds",
        "ai_map_concurrency",
        "anonymous_requests_per_window",
        "anonymous_window_seconds",
        "limits_redis_retry_seconds",
        "anthropic_context_tokens",
        "openai_context_tokens",
        "gemini_context_tokens",
        "compatible_context_tokens",
        "youtube_timeout_seconds",
        "single_flight_lease_seconds",
        "cache_warm_interval_seconds",
    )
    problems += [f"{ENV_PREFIX}{name.upper()} must be positive" for name in positive if getattr(settings, name) <= 0]
    not_negative = ("result_cache_seconds", "cache_warm_top_n", "cache_warm_budget_tokens")
    problems += [
        f"{ENV_PREFIX}{name.upper()} must not be negative" for name in not_negative if getattr(settings, name) < 0
    ]
    for name in sorted(_TIER_LIMIT_FIELDS):
        value = getattr(settings, name)
        smallest = 0 if name.endswith("jobs_per_day") else 1  # no job on the server's keys at all is a choice
        if value is not None and value < smallest:
            problems.append(f"{ENV_PREFIX}{name.upper()} must be at least {smallest}, or '{UNLIMITED}'")
    if len(settings.secret_key) < 32:
        problems.append(f"{ENV_PREFIX}SECRET_KEY must be at least 32 characters")
    elif _is_repetition(settings.secret_key) or estimated_entropy_bits(settings.secret_key) < MIN_SECRET_KEY_BITS:
        problems.append(
            f"{ENV_PREFIX}SECRET_KEY is too predictable (an estimated {MIN_SECRET_KEY_BITS} bits are needed); "
            "generate one, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if settings.password_reset_url.count("{token}") != 1:
        problems.append(f"{ENV_PREFIX}PASSWORD_RESET_URL must contain {{token}} once")
    if settings.workers > 1 and not settings.redis_url:
        problems.append(multi_process_needs_redis())
    if settings.email_backend == "smtp" and not settings.smtp_host:
        problems.append(f"{ENV_PREFIX}SMTP_HOST is required when {ENV_PREFIX}EMAIL_BACKEND=smtp")
    if settings.cors_allow_credentials and "*" in settings.cors_origins:
        problems.append(f"{ENV_PREFIX}CORS_ALLOW_CREDENTIALS needs {ENV_PREFIX}CORS_ORIGINS to list origins, not '*'")
    problems += _check_ai(settings)
    settings.encryption_keyring()  # raises ConfigError naming SCRIBE_ENCRYPTION_KEYS
    if settings.is_deployed:
        env = settings.env
        if settings.secret_key == DEV_SECRET_KEY:
            problems.append(f"{ENV_PREFIX}SECRET_KEY must be set in {env} (the default is public)")
        if settings.is_sqlite:
            problems.append(f"{ENV_PREFIX}DATABASE_URL must point to PostgreSQL in {env}, not SQLite")
        if "*" in settings.cors_origins:
            problems.append(f"{ENV_PREFIX}CORS_ORIGINS must list origins in {env}, not '*'")
        if not settings.encryption_keys:
            problems.append(f"{ENV_PREFIX}ENCRYPTION_KEYS must be set in {env}")
        if not settings.redis_url:
            problems.append(f"{ENV_PREFIX}REDIS_URL must be set in {env} (limits and logout are shared)")
        if settings.email_backend == "log":
            problems.append(f"{ENV_PREFIX}EMAIL_BACKEND must be smtp in {env} (the log would hold reset links)")
    if problems:
        raise ConfigError("; ".join(problems))


def multi_process_needs_redis() -> str:
    # In-process state is per process: a logout in one would not reach the others.
    return f"{ENV_PREFIX}WORKERS above 1 needs {ENV_PREFIX}REDIS_URL (logouts and limits must be shared)"


def _check_ai(settings: Settings) -> list[str]:
    problems = [
        f"{ENV_PREFIX}AI_CHAIN: unknown provider '{name}' (known: {', '.join(PROVIDER_NAMES)})"
        for name in settings.ai_chain
        if name not in PROVIDER_NAMES
    ]
    if settings.compatible_base_url and not settings.compatible_models:
        problems.append(f"{ENV_PREFIX}COMPATIBLE_MODELS must name at least one model when COMPATIBLE_BASE_URL is set")
    for provider in ("anthropic", "openai", "gemini"):
        if not getattr(settings, f"{provider}_models"):
            problems.append(f"{ENV_PREFIX}{provider.upper()}_MODELS must name at least one model")
    room = settings.ai_max_output_tokens + 2000  # the answer, the instructions and at least some transcript
    problems += [
        f"{ENV_PREFIX}{provider.upper()}_CONTEXT_TOKENS must exceed {ENV_PREFIX}AI_MAX_OUTPUT_TOKENS + 2000 ({room})"
        for provider in ("anthropic", "openai", "gemini", "compatible")
        if getattr(settings, f"{provider}_context_tokens") <= room
    ]
    problems += [
        f"{ENV_PREFIX}AI_PRICES: '{model}' needs two non-negative prices (input/output per 1M tokens)"
        for model, pair in settings.ai_prices.items()
        if len(pair) != 2 or min(pair) < 0
    ]
    return problems


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings for display, secrets replaced (URLs keep scheme and host, lose credentials)."""
    shown: dict[str, Any] = msgspec.to_builtins(settings)
    for name in SECRET_FIELDS:
        value = shown.get(name)
        if value and name.endswith("_url"):
            shown[name] = _mask_url(value)
        elif value:
            shown[name] = "********"
    return shown


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":")[0]
    return f"{scheme}://{user}:********@{host}"
