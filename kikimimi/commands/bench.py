"""`kikimimi bench …`: commands that print measured figures (speed, cost), never timed tests."""

from __future__ import annotations

import typer

from kikimimi.commands.collect import bench_ingest
from kikimimi.commands.nlp import bench_nlp
from kikimimi.commands.scale import bench_scale

bench_app = typer.Typer(help="Measure speed and cost; each command prints its figures (--json for machines).")
bench_app.command(name="ingest")(bench_ingest)
bench_app.command(name="nlp")(bench_nlp)


@bench_app.command(name="posting")
def bench_posting(
    trials: int = typer.Option(100, help="Trials per scenario."),
    scenario: str = typer.Option("all", help="lagging, second-worker, three-workers, lost-answer or all."),
    seed: int = typer.Option(1, help="First trial's seed."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object for machines."),
) -> None:
    """Kill -9, racing workers, lagging lookups, lost answers: print doubles and lost approvals per scenario."""
    from responder.trials import main

    args = ["--trials", str(trials), "--scenario", scenario, "--seed", str(seed)] + (["--json"] if json_output else [])
    raise typer.Exit(main(args))


bench_app.command(name="scale")(bench_scale)
