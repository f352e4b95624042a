"""`kikimimi bench …`: commands that print measured figures (speed, cost), never timed tests."""

from __future__ import annotations

import typer

from kikimimi.commands.collect import bench_ingest
from kikimimi.commands.nlp import bench_nlp

bench_app = typer.Typer(help="Measure speed and cost; each command prints its figures (--json for machines).")
bench_app.command(name="ingest")(bench_ingest)
bench_app.command(name="nlp")(bench_nlp)
