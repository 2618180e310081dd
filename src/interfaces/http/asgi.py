"""ASGI entry point for servers: `granian --interface asgi interfaces.http.asgi:app`."""

from __future__ import annotations

from infrastructure.config import load_settings
from interfaces.http.app import create_app
from interfaces.logging import configure_logging

settings = load_settings()
configure_logging(settings.log_level, settings.effective_log_format)
app = create_app(settings)
