"""ASGI entry point for servers: `granian --interface asgi interfaces.http.asgi:app`."""

from __future__ import annotations

import gc

from infrastructure.bootstrap.settings import load_settings
from interfaces.http.app import create_app
from interfaces.logging import configure_logging

settings = load_settings()
configure_logging(settings.log_level, settings.effective_log_format)
app = create_app(settings)


def _freeze_startup_heap() -> None:
    # Everything built so far lives as long as the process: move it out of the collector's sight, so a full
    # collection under load walks the request garbage only (measured: 100+ ms pauses down to ~20 ms).
    gc.collect()
    gc.freeze()


app.on_startup.append(_freeze_startup_heap)
