"""`scribe history export`: a user's history to a file, with the same use case as `GET /api/v1/history/export`."""

from __future__ import annotations

from pathlib import Path

import click
from dishka import AsyncContainer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from application.auth.authenticate import ALL_SCOPES, Principal
from application.history import HistorySelection
from application.history_export import ExportFormat, ExportHistory
from application.ports import UserRepository
from domain.errors import InvalidInput, ScribeError
from interfaces.cli.runtime import run_in_container, settings_or_exit

console = Console(stderr=True, highlight=False)  # stdout stays free for scripts


@click.group()
def history() -> None:
    """Users' processing history."""


@history.command("export")
@click.option("--user", "email", required=True, help="Whose history: the account's e-mail.")
@click.option(
    "--format",
    "export_format",
    required=True,
    type=click.Choice([f.value for f in ExportFormat]),
    help="json (an array), jsonl (a line per entry), csv, md, or pdf (a zip of one PDF per entry).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write; it appears only once the export is complete.",
)
@click.option("--purpose")
@click.option("--language")
@click.option("--provider")
@click.option("--model")
@click.option("--video-id")
@click.option("--from", "date_from", help="An ISO date or datetime (UTC unless it has an offset), inclusive.")
@click.option("--to", "date_to", help="An ISO date or datetime, inclusive.")
@click.option("--cached/--fresh", default=None, help="Only cached results, or only fresh ones.")
@click.option("--q", help="Words to find, as the API's `q`.")
def export(
    email: str,
    export_format: str,
    out: Path,
    purpose: str | None,
    language: str | None,
    provider: str | None,
    model: str | None,
    video_id: str | None,
    date_from: str | None,
    date_to: str | None,
    cached: bool | None,
    q: str | None,
) -> None:
    """Export a user's history, filtered as the API filters it, to --out."""
    selection = HistorySelection(purpose, language, provider, model, video_id, date_from, date_to, cached, q)
    partial = out.with_name(out.name + ".part")

    async def action(container: AsyncContainer) -> int:
        user = await (await container.get(UserRepository)).get_by_email(email.strip().lower())
        if user is None:
            raise click.ClickException(f"no user with e-mail {email}")
        exporting = await (await container.get(ExportHistory))(
            Principal(user, ALL_SCOPES), selection, ExportFormat(export_format)
        )
        columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        written = 0
        with Progress(*columns, console=console) as progress, partial.open("wb") as file:
            task = progress.add_task("export", total=exporting.total)
            async for chunk in exporting.chunks:
                file.write(chunk.data)
                written += chunk.entries
                progress.advance(task, chunk.entries)
        return written

    try:
        written = run_in_container(settings_or_exit(), action)
        partial.replace(out)
    except InvalidInput as error:
        raise click.ClickException("; ".join(f"{p.field} {p.message}" for p in error.problems)) from None
    except ScribeError as error:
        raise click.ClickException(str(error)) from None
    finally:
        partial.unlink(missing_ok=True)  # gone after the rename; after a failure, no half-written file stays
    console.print(f"exported {written} entries to {out}")
