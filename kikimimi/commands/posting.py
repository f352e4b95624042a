"""`kikimimi posting …`: the brand-wide pause switch, and what is in flight, unknown or waiting for Retry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import col, func, select

from kikimimi.models import DraftState, ReplyDraft
from kikimimi.settings import load_settings

posting_app = typer.Typer(
    help="Stop or resume all posting (admins), and see what posting is doing.", no_args_is_help=True
)
console = Console()

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")]
ActorOption = Annotated[str, typer.Option("--as", help="Who is doing this (a user with the admin role).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why: shown to everyone while posting is paused.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object for machines.")]


def _open(config: Path | None):  # type: ignore[no-untyped-def]
    from kikimimi.db import open_session

    return open_session(load_settings(config, fallback_to_example=True))


@posting_app.command("pause")
def pause(actor: ActorOption, reason: ReasonOption = "", config: ConfigOption = None) -> None:
    """Stop all posting now: every worker checks this right before each platform call."""
    from responder.pause import pause_posting
    from responder.workflow import get_user

    with _open(config) as session:
        state = pause_posting(session, get_user(session, actor), reason=reason)
    console.print(f"[red]posting paused[/] by {state.by} at {state.at:%Y-%m-%d %H:%M:%S} UTC")


@posting_app.command("resume")
def resume(actor: ActorOption, reason: ReasonOption = "", config: ConfigOption = None) -> None:
    """Let workers post approved replies again."""
    from responder.pause import resume_posting
    from responder.workflow import get_user

    with _open(config) as session:
        state = resume_posting(session, get_user(session, actor), reason=reason)
    console.print(f"[green]posting resumed[/] by {state.by} at {state.at:%Y-%m-%d %H:%M:%S} UTC")


@posting_app.command("status")
def status(config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """Whether posting is paused, and how many replies are in flight, unknown, or waiting for a person's Retry."""
    from responder.pause import pause_history, posting_pause

    with _open(config) as session:
        state = posting_pause(session)
        counts = dict(
            session.exec(
                select(ReplyDraft.state, func.count())
                .where(col(ReplyDraft.state).in_([s.value for s in DraftState]))
                .group_by(ReplyDraft.state)
            ).all()
        )
        history = [
            {"enabled": e.enabled, "actor": e.actor, "reason": e.reason, "at": e.at.isoformat()}
            for e in pause_history(session, limit=5)
        ]
    data = {
        "paused": state.paused,
        "paused_by": state.by if state.paused else None,
        "paused_at": state.at.isoformat() if state.paused and state.at else None,
        "reason": state.reason,
        "approved": int(counts.get(DraftState.approved.value, 0)),
        "posting": int(counts.get(DraftState.posting.value, 0)),
        "unknown": int(counts.get(DraftState.unknown.value, 0)),
        "not_posted": int(counts.get(DraftState.not_posted.value, 0)),
        "failed": int(counts.get(DraftState.failed.value, 0)),
        "history": history,
    }
    if json_output:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if state.paused:
        console.print(
            f"[red]posting is PAUSED[/] by {state.by} since {state.at:%Y-%m-%d %H:%M:%S} UTC: {state.reason or ''}"
        )
    else:
        console.print("[green]posting is on[/] (live only where live_posting = true)")
    table = Table("replies", "count")
    for key, label in (
        ("approved", "approved, waiting to be posted"),
        ("posting", "in flight (leased to a worker)"),
        ("unknown", "outcome unknown: being looked up, never re-posted"),
        ("not_posted", "looked up, not posted: Retry is safe"),
        ("failed", "refused by the platform"),
    ):
        table.add_row(label, str(data[key]))
    console.print(table)
