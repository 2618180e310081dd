"""`scribe cache ...`: the processing result cache (SCRIBE_RESULT_CACHE_SECONDS), shared through Redis when
SCRIBE_REDIS_URL is set. Without Redis each server process keeps its own cache, which these commands cannot reach."""

from __future__ import annotations

import click
from dishka import AsyncContainer
from rich.console import Console

from application.processing.result_cache import PurgeCachedResults, PurgeTarget
from application.processing.warming import WarmingReport, WarmResultCache
from domain.errors import ScribeError
from interfaces.cli.runtime import run_in_container, settings_or_exit

console = Console(highlight=False)


@click.group()
def cache() -> None:
    """Cached processing answers: purge them, or warm the most requested ones."""


@cache.command()
@click.option("--video", "video_id", help="Drop every cached answer about this YouTube video id.")
@click.option("--user", "email", help="Drop every cached answer this user's requests produced.")
def purge(video_id: str | None, email: str | None) -> None:
    """Drop cached answers by video or by user; the next identical request produces a new one."""
    if (video_id is None) == (email is None):
        raise click.UsageError("give exactly one of --video or --user")
    settings = settings_or_exit()
    if settings.redis_url is None:
        raise click.ClickException("without SCRIBE_REDIS_URL each server process keeps its own cache: restart it")

    async def action(container: AsyncContainer) -> int:
        return await (await container.get(PurgeCachedResults))(PurgeTarget(video_id, email))

    try:
        purged = run_in_container(settings, action)
    except ScribeError as error:
        raise click.ClickException(str(error)) from None
    console.print(f"purged {purged} cached answer{'s' if purged != 1 else ''}")


@cache.command()
def warm() -> None:
    """Recompute now the most requested answers that expire soon (what the server does every
    SCRIBE_CACHE_WARM_INTERVAL_SECONDS), on the server's keys, within SCRIBE_CACHE_WARM_BUDGET_TOKENS."""
    settings = settings_or_exit()
    if settings.redis_url is None:
        raise click.ClickException("without SCRIBE_REDIS_URL each server process keeps its own cache to warm")

    async def action(container: AsyncContainer) -> WarmingReport:
        return await (await container.get(WarmResultCache))()

    report = run_in_container(settings, action)
    console.print(f"warmed: {report.warmed}  failed: {report.failed}  tokens: {report.tokens}")
