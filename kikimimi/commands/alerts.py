"""`kikimimi alerts check|list`: raise what the detectors find and deliver what is due; list recent alerts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kikimimi.db import open_session
from kikimimi.settings import load_settings

alerts_app = typer.Typer(help="Spike and service-level alerts, and their deliveries.", no_args_is_help=True)
console = Console()
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@alerts_app.command("check")
def check_command(config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """Raise new alerts (each once) and deliver every delivery that is due, as each pipeline pass does."""
    from kikimimi.pipeline import check_alerts

    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        result = check_alerts(session, settings)
    if json_output:
        typer.echo(json.dumps(asdict(result)))
        return
    console.print(
        f"alerts raised {result.raised} · delivered {result.delivered} · to retry {result.pending}"
        f" · given up {result.failed}"
    )


@alerts_app.command("list")
def list_command(
    config: ConfigOption = None,
    json_output: JsonOption = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """The newest alerts with how each delivery stands."""
    from responder.alerts import alert_list
    from responder.delivery import deliveries, summary

    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        found = alert_list(session, limit=limit)
        sent = deliveries(session, [a.id for a in found if a.id is not None])
    rows = [
        {
            "id": a.id,
            "kind": a.kind,
            "raised_at": a.created_at.isoformat(),
            "summary": summary(a),
            "deliveries": {d.delivery.destination: d.delivery.state for d in sent.get(a.id or 0, [])},
        }
        for a in found
    ]
    if json_output:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "kind", "raised (UTC)", "summary", "deliveries")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["kind"],
            r["raised_at"][:16],
            r["summary"],
            ", ".join(f"{k}: {v}" for k, v in r["deliveries"].items()) or "—",
        )
    console.print(table)
