"""Numbers the auth use cases follow; built from settings by the DI container."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    access_token_lifetime: timedelta = timedelta(minutes=15)
    refresh_idle_lifetime: timedelta = timedelta(days=14)
    session_max_age: timedelta = timedelta(days=30)
    reset_token_lifetime: timedelta = timedelta(minutes=30)
    password_reset_url: str = "http://localhost:3000/reset-password?token={token}"
    # Failed logins per window: from one address for one account (the tight limit), from one address for any
    # account, and for one account from anywhere (so spreading guesses over many addresses does not help,
    # while a stranger needs far more tries to lock an owner out).
    login_failures_per_account_ip: int = 5
    login_failures_per_ip: int = 20
    login_failures_per_account: int = 50
    login_window_seconds: int = 900
    reset_requests_per_ip: int = 10
    reset_requests_per_account: int = 5  # reset mails per account per reset_token_lifetime (see SendPasswordResetLink)
    reset_window_seconds: int = 3600
    registrations_per_ip: int = 20
    registration_window_seconds: int = 3600
    password_change_failures: int = 5
