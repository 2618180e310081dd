"""Settings: `SCRIBE_*` environment variables over an optional `config/<env>.toml`, validated at start-up."""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

ENV_PREFIX = "SCRIBE_"
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"
SECRET_FIELDS = frozenset({"secret_key", "encryption_keys", "smtp_password", "database_url", "redis_url"})


class ConfigError(Exception):
    """The configuration cannot be used; the message names the variable."""


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    env: Literal["development", "staging", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = msgspec.field(default=8000)
    workers: int = 1
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
    email_backend: Literal["log", "smtp"] = "log"
    email_from: str = "Scribe <no-reply@localhost>"
    email_relay_seconds: float = 5.0
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    docs_enabled: bool = True

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
        raw[name] = [v.strip() for v in value.split(",") if v.strip()] if name == "cors_origins" else value
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise ConfigError(_name_the_variable(str(error))) from None
    _check(settings)
    return settings


def _name_the_variable(message: str) -> str:
    # msgspec says "... - at `$.port`"; users set SCRIBE_PORT.
    text, _, path = message.partition(" - at `$.")
    if not path:
        return f"Invalid configuration: {message}"
    field = path.split("`")[0].split("[")[0]
    return f"{ENV_PREFIX}{field.upper()}: {text}"


def _check(settings: Settings) -> None:
    problems = []
    positive = (
        "port",
        "workers",
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
        "email_relay_seconds",
    )
    problems += [f"{ENV_PREFIX}{name.upper()} must be positive" for name in positive if getattr(settings, name) <= 0]
    if len(settings.secret_key) < 32:
        problems.append(f"{ENV_PREFIX}SECRET_KEY must be at least 32 characters")
    if settings.password_reset_url.count("{token}") != 1:
        problems.append(f"{ENV_PREFIX}PASSWORD_RESET_URL must contain {{token}} once")
    if settings.email_backend == "smtp" and not settings.smtp_host:
        problems.append(f"{ENV_PREFIX}SMTP_HOST is required when {ENV_PREFIX}EMAIL_BACKEND=smtp")
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
