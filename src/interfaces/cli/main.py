"""`scribe`: serve the API, migrate the database, administer users, check the configuration.

Heavy modules (alembic, granian, the container) are imported inside the commands that use them, so a
command starts quickly."""

from __future__ import annotations

import importlib.util
import json

import click
from rich.console import Console

from infrastructure.bootstrap.settings import masked, multi_process_needs_redis
from interfaces.cli.cache import cache
from interfaces.cli.history import history
from interfaces.cli.keys import keys
from interfaces.cli.process import process
from interfaces.cli.runtime import settings_or_exit
from interfaces.cli.users import users

console = Console()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Scribe API: settings come from SCRIBE_* variables over config/<SCRIBE_ENV>.toml."""


@cli.command()
@click.option("--host", help="Address to bind (default: SCRIBE_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: SCRIBE_PORT, 8000).")
@click.option("--workers", type=int, help="Server processes (default: SCRIBE_WORKERS, 1).")
@click.option("--migrate/--no-migrate", default=None, help="Apply migrations first (default: only on SQLite).")
@click.option(
    "--loop",
    type=click.Choice(["uvloop", "asyncio"]),
    help="Event loop (default: uvloop where it is installed, i.e. not on Windows; else asyncio).",
)
def serve(host: str | None, port: int | None, workers: int | None, migrate: bool | None, loop: str | None) -> None:
    """Run the HTTP API (granian). On the embedded SQLite default the database migrates itself."""
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    from infrastructure.persistence import migrations

    settings = settings_or_exit()
    if (workers or settings.workers) > 1 and not settings.redis_url:
        raise click.UsageError(multi_process_needs_redis())
    if migrate if migrate is not None else settings.is_sqlite:
        migrations.upgrade(settings.database_url)
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"Scribe API on http://{bind_host}:{bind_port}  (docs: http://{bind_host}:{bind_port}/docs)")
    Server(
        "interfaces.http.asgi:app",
        address=bind_host,
        port=bind_port,
        interface=Interfaces.ASGI,
        workers=workers or settings.workers,
        loop=Loops(loop or _default_loop()),
        log_access=False,  # our middleware writes one line per request
        log_enabled=True,
        # SIGTERM: requests in flight may finish within the grace period; a worker still busy then is stopped.
        workers_kill_timeout=settings.shutdown_grace_seconds,
    ).serve()


def _default_loop() -> str:
    """uvloop serves the same app about 1.3x faster than asyncio's loop; it does not exist for Windows."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


@cli.group()
def db() -> None:
    """Database schema migrations (alembic)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from infrastructure.persistence import migrations

    settings = settings_or_exit()
    migrations.upgrade(settings.database_url, revision)
    console.print(f"database at {migrations.current(settings.database_url)}")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` empties the database)."""
    from infrastructure.persistence import migrations

    settings = settings_or_exit()
    migrations.downgrade(settings.database_url, revision)
    console.print(f"database at {migrations.current(settings.database_url)}")


@db.command()
def current() -> None:
    """Show the applied revision."""
    from infrastructure.persistence import migrations

    console.print(migrations.current(settings_or_exit().database_url))


@cli.group()
def config() -> None:
    """Configuration."""


@config.command()
def check() -> None:
    """Validate the configuration and print it, secrets masked. Exits non-zero when it is unusable."""
    settings = settings_or_exit()
    click.echo(json.dumps(masked(settings), indent=2, sort_keys=True))


cli.add_command(users)
cli.add_command(keys)
cli.add_command(process)
cli.add_command(cache)
cli.add_command(history)
