"""`scribe process`: the processing use case from a terminal, for scripting and support."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec
from dishka import AsyncContainer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text
from rich.tree import Tree

from application.access import Caller
from application.auth.authenticate import ALL_SCOPES, Principal
from application.ports import UserRepository
from application.processing.process import ProcessCommand, ProcessResult, ProcessTranscript
from domain.errors import InvalidInput, ScribeError
from domain.mind_map import MindMap, MindMapNode
from domain.outputs import Output, Purpose
from domain.transcripts import format_timestamp
from interfaces.cli.runtime import run_in_container, settings_or_exit
from interfaces.views.processing import ProcessView

console = Console(highlight=False)


@click.command()
@click.argument("source")
@click.option("--purpose", type=click.Choice([p.value for p in Purpose]), default=Purpose.LEARNING.value)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    type=click.Choice([o.value for o in Output]),
    help="Instead of --purpose; repeatable.",
)
@click.option("--language", default="pl", show_default=True, help="ISO 639-1 code of the output language.")
@click.option("--custom-prompt", help="The instruction for the custom output.")
@click.option("--provider", help="Try this provider first.")
@click.option("--model", help="Try this model first.")
@click.option("--user", "email", help="Save the result to this user's history and count it in their usage.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of panels.")
def process(
    source: str,
    purpose: str,
    outputs: tuple[str, ...],
    language: str,
    custom_prompt: str | None,
    provider: str | None,
    model: str | None,
    email: str | None,
    as_json: bool,
) -> None:
    """Process SOURCE: a YouTube URL, a transcript file (text, SRT, WebVTT), or - for standard input."""
    is_url = source.startswith(("http://", "https://", "www.", "youtu"))
    text = None if is_url else _read(source)

    async def action(container: AsyncContainer) -> ProcessResult:
        principal = None
        if email:
            user = await (await container.get(UserRepository)).get_by_email(email.strip().lower())
            if user is None:
                raise click.ClickException(f"no user with e-mail {email}")
            principal = Principal(user, ALL_SCOPES)
        caller = Caller(principal, "cli", operator=True)
        command = ProcessCommand(
            outputs=tuple(Output(o) for o in outputs) or None,
            language=language,
            transcript=text,
            url=source if is_url else None,
            custom_prompt=custom_prompt,
            purpose=None if outputs else Purpose(purpose),
            provider=provider,
            model=model,
        )
        return await (await container.get(ProcessTranscript))(caller, command)

    try:
        result = run_in_container(settings_or_exit(), action)
    except InvalidInput as error:
        raise click.ClickException("; ".join(f"{p.field} {p.message}" for p in error.problems)) from None
    except ScribeError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(msgspec.json.encode(ProcessView.of(result)).decode())
    else:
        _show(result)


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise click.ClickException(f"{source} is neither a YouTube URL nor a readable file")
    return path.read_text(encoding="utf-8-sig")


def _show(result: ProcessResult) -> None:
    values = result.values
    title = result.transcript.title or "Transcript"
    if Output.SUMMARY in values:
        console.print(Panel(Text(values[Output.SUMMARY]), title=Text(f"{title} — summary")))
    if result.key_topics:
        lines = [
            f"- {t.title}" + (f"  ({format_timestamp(t.timestamp)})" if t.timestamp is not None else "")
            for t in result.key_topics
        ]
        console.print(Panel(Text("\n".join(lines)), title="Key topics"))
    if Output.MIND_MAP in values:
        console.print(Panel(_tree(values[Output.MIND_MAP]), title="Mind map"))
    if Output.SOCIAL_POST in values:
        console.print(Panel(Text(values[Output.SOCIAL_POST]), title="Social post"))
    if Output.CUSTOM in values:
        console.print(Panel(Text(values[Output.CUSTOM]), title="Custom output"))
    saved = f"history {result.history_id}" if result.history_id else "not saved (no --user)"
    console.print(
        Text(
            f"{result.provider}/{result.model} · {result.spend.tokens_in}+{result.spend.tokens_out} tokens · "
            f"${result.spend.cost_usd:.4f} · {result.duration_ms} ms · {saved}",
            style="dim",
        )
    )


def _tree(mind_map: MindMap) -> Tree:
    def grow(branch: Tree, node: MindMapNode) -> None:
        for child in node.children:
            grow(branch.add(Text(child.label)), child)

    tree = Tree(Text(mind_map.root.label, style="bold"))
    grow(tree, mind_map.root)
    return tree
