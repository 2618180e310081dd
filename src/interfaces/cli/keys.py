"""`scribe keys ...`: users' stored provider keys under the master keyring (SCRIBE_ENCRYPTION_KEYS)."""

from __future__ import annotations

import click
from dishka import AsyncContainer
from rich.console import Console
from rich.table import Table

from application.accounts.provider_keys import (
    CountProviderKeys,
    ProviderKeyCensus,
    RotateProviderKeys,
    RotationReport,
)
from interfaces.cli.runtime import run_in_container, settings_or_exit

console = Console()


@click.group()
def keys() -> None:
    """Users' provider keys: which master key seals them, and re-sealing under the current one."""


@keys.command()
def rotate() -> None:
    """Re-encrypt every stored key under the current (first) master key version.

    Runs while the server serves: one user at a time, and keys not yet done keep opening under their old
    version. Drop an old version from SCRIBE_ENCRYPTION_KEYS only once `scribe keys status` shows none left."""

    async def action(container: AsyncContainer) -> RotationReport:
        return await (await container.get(RotateProviderKeys))()

    report = run_in_container(settings_or_exit(), action)
    console.print(
        f"rotated: {report.rotated}  already current: {report.already_current}  unreadable: {report.unreadable}"
    )
    if report.unreadable:
        console.print(
            "[yellow]Unreadable keys were left as they are: their master version is missing from the keyring, "
            "or they were altered. Their owners' requests use the server's keys until they save them again.[/]"
        )


@keys.command()
def status() -> None:
    """Count stored keys per master key version."""

    async def action(container: AsyncContainer) -> ProviderKeyCensus:
        return await (await container.get(CountProviderKeys))()

    census = run_in_container(settings_or_exit(), action)
    table = Table("master version", "stored keys")
    for version, count in sorted(census.by_version.items()):
        label = f"{version} (current)" if version == census.current_version else version
        table.add_row(label, str(count))
    console.print(table)
    console.print(f"current version: {census.current_version}")
