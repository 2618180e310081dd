"""What every command shares: settings (with a readable failure), logging, and a container scope."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from dishka import AsyncContainer

from infrastructure.bootstrap.settings import ConfigError, Settings, load_settings
from interfaces.logging import configure_logging

T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(f"configuration error: {error}") from None
    configure_logging(settings.log_level, settings.effective_log_format)
    return settings


def run_in_container(settings: Settings, action: Callable[[AsyncContainer], Awaitable[T]]) -> T:
    """Runs `action` inside one request scope of the same container the web app uses."""

    from infrastructure.bootstrap.container import make_container

    async def main() -> T:
        container = make_container(settings)
        try:
            async with container() as request_container:
                return await action(request_container)
        finally:
            await container.close()

    return asyncio.run(main())
