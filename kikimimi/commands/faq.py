"""`kikimimi eval faq` (grouping quality against gold labels) and `kikimimi faq refresh|list|export`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
faq_app = typer.Typer(help="Harvest recurring questions into FAQ entries.", no_args_is_help=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
SCORE_KEYS = ("n", "n_clusters", "nmi", "ari", "accuracy", "noise", "seconds")


def eval_faq(
    file: Annotated[Path, typer.Argument(help="CSV with columns text,label; labels are only used to score")],
    as_json: JsonOption = False,
) -> None:
    """Group every row of FILE without its labels and print n, n_clusters, nmi, ari, accuracy, seconds."""
    from nlp_models.faq.evaluation import evaluate_file

    if not file.exists():
        raise typer.BadParameter(f"{file} does not exist", param_hint="FILE")
    scores = evaluate_file(file)
    if as_json:
        typer.echo(json.dumps(scores.to_dict()))
        return
    table = Table(title=f"FAQ grouping on {file.name}")
    for key in SCORE_KEYS:
        table.add_column(key, justify="right")
    d = scores.to_dict()
    table.add_row(*(str(d[k]) for k in SCORE_KEYS))
    console.print(table)


def _session(config: Path | None):  # noqa: ANN202 - a sqlmodel Session
    from kikimimi.db import open_session
    from kikimimi.settings import load_settings

    return open_session(load_settings(config, fallback_to_example=True))


@faq_app.command("refresh")
def faq_refresh(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Re-group analysed questions into FAQ candidates (ids and the lead's decisions are kept)."""
    from dataclasses import asdict

    from responder.faq import refresh

    with _session(config) as session:
        summary = refresh(session)
    if as_json:
        typer.echo(json.dumps(asdict(summary)))
        return
    console.print(
        f"{summary.questions} questions ({summary.embedded} newly embedded): {summary.candidates} candidates, "
        f"{summary.kept_ids} kept their id, {summary.created} new, {summary.removed} gone, "
        f"{summary.joined_decided} joined decided entries"
    )


@faq_app.command("list")
def faq_list(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    status: Annotated[str | None, typer.Option(help="candidate, accepted or dismissed")] = None,
) -> None:
    """FAQ candidates and entries, largest first: title, size, growth, languages, platforms."""
    from kikimimi.models import FaqStatus
    from responder.faq import candidates

    with _session(config) as session:
        rows = candidates(session, statuses=[FaqStatus(status)] if status else None)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table("id", "status", "title", "size", "growth", "languages", "platforms", "key phrases")
    for r in rows:
        table.add_row(
            str(r.id),
            r.status,
            " / ".join(dict.fromkeys([r.label, *r.titles.values()])),
            str(r.size),
            f"{r.growth:+d}",
            ", ".join(r.languages),
            ", ".join(r.platforms),
            ", ".join(r.key_phrases),
        )
    console.print(table)


@faq_app.command("export")
def faq_export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, csv or json")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout")] = None,
    config: ConfigOption = None,
) -> None:
    """Accepted entries with answers, for a help centre."""
    from responder.faq import EXPORT_FORMATS, export

    if fmt not in EXPORT_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(EXPORT_FORMATS)}", param_hint="--format")
    with _session(config) as session:
        text = export(session, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
    else:
        typer.echo(text)
