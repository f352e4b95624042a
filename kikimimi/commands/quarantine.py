"""`kikimimi quarantine list|retry`: see the items collectors could not store, and replay them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kikimimi.db import open_session
from kikimimi.settings import load_settings
from listener.quarantine import list_quarantined, retry_quarantined

quarantine_app = typer.Typer(help="Items a collector could not normalise or store.", no_args_is_help=True)
console = Console()
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@quarantine_app.command("list")
def list_command(
    config: ConfigOption = None,
    json_output: JsonOption = False,
    all_items: Annotated[bool, typer.Option("--all", help="Also list items a retry has since stored.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
) -> None:
    """List quarantined items, newest first: platform, id, error, when, retries."""
    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        rows = list_quarantined(session, include_resolved=all_items, limit=limit)
    if json_output:
        data = [
            {
                "id": r.id,
                "platform": r.platform,
                "query_key": r.query_key,
                "external_id": r.external_id,
                "error": r.error,
                "run_id": r.run_id,
                "created_at": r.created_at.isoformat(),
                "retries": r.retries,
                "resolved": r.resolved,
                "raw": r.raw,
            }
            for r in rows
        ]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("nothing in quarantine")
        return
    table = Table("id", "platform", "item", "error", "quarantined", "retries", "resolved", title="quarantine")
    for r in rows:
        table.add_row(
            str(r.id),
            r.platform,
            r.external_id or "?",
            r.error,
            r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            str(r.retries),
            "yes" if r.resolved else "no",
        )
    console.print(table, markup=False, highlight=False)


@quarantine_app.command("retry")
def retry_command(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Quarantine ids to replay (default: every unresolved one).")
    ] = None,
    config: ConfigOption = None,
    json_output: JsonOption = False,
) -> None:
    """Replay quarantined items through their normaliser and the store; stored ones are marked resolved."""
    from listener.registry import normaliser_for  # every platform's client: only when retrying

    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        report = retry_quarantined(session, lambda platform: normaliser_for(platform, settings), ids=ids or None)
    if json_output:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        failing = len(report.still_failing)
        console.print(f"resolved {len(report.resolved)} · new posts {report.new_posts} · still failing {failing}")
        for row_id, error in report.still_failing.items():
            console.print(f"  {row_id}: {error}", markup=False, highlight=False)
    if report.still_failing:
        raise typer.Exit(1)
