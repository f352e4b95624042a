"""`kikimimi erase`: an author's posts on request (APPI / GDPR), or every brand's posts past its retention."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kikimimi.db import open_session
from kikimimi.erasure import TABLES, ErasureError, ErasureReport, erase_author, erase_expired, parse_author
from kikimimi.settings import load_settings

console = Console()


def erase_command(
    author: Annotated[
        str | None, typer.Option("--author", help="PLATFORM:HANDLE, e.g. x:komorebi_fan or bluesky:did:plc:…")
    ] = None,
    expired: Annotated[
        bool, typer.Option("--expired", help="Erase posts older than each brand's retention_days.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Erase without asking (for scripts).")] = False,
    actor: Annotated[str | None, typer.Option("--as", help="Who asks (for the audit row); default: you.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object for machines.")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")] = None,
) -> None:
    """Erase an author's posts with their analyses, drafts and FAQ places, or the posts past retention.

    Every erasure writes an audit row (what kind, whose, who, when, how many rows; never the content).
    Without --yes, an author erasure first shows what it would remove and asks.
    """
    if (author is None) == (not expired):
        raise ErasureError("say what to erase: --author PLATFORM:HANDLE or --expired (one of them)")
    settings = load_settings(config)
    who = actor or f"cli:{_user()}"
    with open_session(settings) as session:
        if expired:
            reports = erase_expired(session, settings, actor=who)
        else:
            platform, handle = parse_author(author)  # type: ignore[arg-type]
            if not yes:
                plan = erase_author(session, platform, handle, actor=who, dry_run=True)
                _print([plan], json_output=False, title="would erase")
                if not typer.confirm("Erase all of this for good?", default=False):
                    raise typer.Exit(1)
            reports = [erase_author(session, platform, handle, actor=who)]
    _print(reports, json_output, title="erased")
    if expired and not any(settings.brands and b.retention_days for b in settings.brands):
        console.print("no brand has retention_days set: nothing is ever erased by age")


def _print(reports: list[ErasureReport], json_output: bool, title: str) -> None:
    if json_output:
        typer.echo(json.dumps({"erasures": [r.as_dict() for r in reports]}, ensure_ascii=False, indent=2))
        return
    for r in reports:
        if r.event_id is not None:
            audit = f"audit row #{r.event_id}"
        else:
            audit = "dry run: nothing erased yet" if r.dry_run else "nothing to erase: no audit row"
        table = Table("what", "rows", title=f"{title} {r.scope}", caption=audit)
        for name in TABLES:
            table.add_row(name.replace("_", " "), str(r.counts.get(name, 0)))
        console.print(table)
    if not reports:
        console.print("nothing to erase")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): the audit still says it came from the CLI
        return "unknown"
