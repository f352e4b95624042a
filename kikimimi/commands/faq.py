"""`kikimimi eval faq` (grouping quality against gold labels) and the `kikimimi faq ...` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def eval_faq(
    file: Annotated[Path, typer.Argument(help="CSV with columns text,label; labels are only used to score")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
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
    for key in ("n", "n_clusters", "nmi", "ari", "accuracy", "noise", "seconds"):
        table.add_column(key, justify="right")
    d = scores.to_dict()
    table.add_row(*(str(d[k]) for k in ("n", "n_clusters", "nmi", "ari", "accuracy", "noise", "seconds")))
    console.print(table)
