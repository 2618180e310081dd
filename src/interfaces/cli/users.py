"""`scribe users ...`: the same use cases as the HTTP API, from one container."""

from __future__ import annotations

import sys

import click
from dishka import AsyncContainer
from rich.console import Console
from rich.table import Table

from application.accounts.admin import AccountChanges, ChangeAccount, CreateUserAsAdmin, ListUsers
from application.auth.register import RegisterCommand
from application.pagination import PageRequest
from domain.errors import InvalidInput, ScribeError
from domain.users import Role, Tier, User
from interfaces.cli.runtime import run_in_container, settings_or_exit

console = Console()


@click.group()
def users() -> None:
    """Create, list and change accounts."""


def _run(action: object) -> User | None:
    try:
        return run_in_container(settings_or_exit(), action)  # type: ignore[arg-type]
    except InvalidInput as error:
        raise click.ClickException("; ".join(f"{p.field} {p.message}" for p in error.problems)) from None
    except ScribeError as error:
        raise click.ClickException(str(error)) from None


def _show(user: User) -> None:
    state = "disabled" if user.disabled else "active"
    console.print(f"{user.email}  id={user.id}  role={user.role}  tier={user.tier}  {state}")


@users.command()
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--tier", type=click.Choice([t.value for t in Tier]), default=Tier.FREE.value, show_default=True)
@click.option("--display-name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def create(email: str, admin: bool, tier: str, display_name: str | None, password_stdin: bool) -> None:
    """Create an account. The password is prompted for (or read from stdin), never taken as an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    cmd = RegisterCommand(email, password, display_name, role=Role.ADMIN if admin else Role.USER)

    async def action(container: AsyncContainer) -> User:
        return await (await container.get(CreateUserAsAdmin))(cmd, Tier(tier))

    user = _run(action)
    assert user is not None
    _show(user)


@users.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
@click.option("--cursor", help="The next cursor printed by the previous page.")
def list_users(limit: int, cursor: str | None) -> None:
    """List accounts, newest first."""

    async def action(container: AsyncContainer) -> None:
        page = await (await container.get(ListUsers))(PageRequest.of(limit, cursor))
        table = Table("email", "id", "role", "tier", "state", "usage", "created")
        for u in page.items:
            state = "disabled" if u.disabled else "active"
            table.add_row(u.email, str(u.id), u.role, u.tier, state, str(u.usage_count), u.created_at.isoformat())
        console.print(table)
        if page.next_cursor:
            console.print(f"next page: scribe users list --cursor {page.next_cursor}")

    _run(action)


def _change(email: str, changes: AccountChanges) -> None:
    async def action(container: AsyncContainer) -> User:
        return await (await container.get(ChangeAccount))(email, changes)

    user = _run(action)
    assert user is not None
    _show(user)


@users.command("set-tier")
@click.argument("email")
@click.argument("tier", type=click.Choice([t.value for t in Tier]))
def set_tier(email: str, tier: str) -> None:
    """Move an account to another tier."""
    _change(email, AccountChanges(tier=Tier(tier)))


@users.command()
@click.argument("email")
def disable(email: str) -> None:
    """Disable an account and end its sessions."""
    _change(email, AccountChanges(disabled=True))


@users.command()
@click.argument("email")
def enable(email: str) -> None:
    """Enable a disabled account."""
    _change(email, AccountChanges(disabled=False))
