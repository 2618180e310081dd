"""Numbers the auth use cases follow; built from settings by the DI container."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    refresh_idle_lifetime: timedelta = timedelta(days=14)
    session_max_age: timedelta = timedelta(days=30)
    reset_token_lifetime: timedelta = timedelta(minutes=30)
    password_reset_url: str = "http://localhost:3000/reset-password?token={token}"
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 20
    login_window_seconds: int = 900
    reset_requests_per_account: int = 3
    reset_requests_per_ip: int = 10
    reset_window_seconds: int = 3600
    service_name: str = "scribe"
