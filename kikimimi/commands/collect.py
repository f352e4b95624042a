"""`kikimimi collect`: poll (or backfill) the platforms' collectors only, with a progress bar and a summary.

A platform whose credentials are missing is reported in one friendly line and skipped; the others run.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from kikimimi.budget import BudgetState, budget_line
from kikimimi.db import open_session
from kikimimi.models import CollectorRun
from kikimimi.settings import PLATFORMS, Settings, load_settings

if TYPE_CHECKING:
    from listener.runner import CollectSummary

log = logging.getLogger(__name__)
console = Console()
err_console = Console(stderr=True)


class Source(StrEnum):
    x = "x"
    reddit = "reddit"
    bluesky = "bluesky"
    mastodon = "mastodon"
    sample = "sample"


def _progress_callback(progress: Progress) -> Callable[[str, CollectorRun, bool], None]:
    """One progress-bar task per (platform, query), updated after every page."""
    tasks: dict[str, TaskID] = {}

    def update(label: str, run: CollectorRun, finished: bool) -> None:
        if label not in tasks:
            tasks[label] = progress.add_task(label, total=None)
        progress.update(tasks[label], description=f"{label} · {run.items_seen} seen")
        if finished:
            progress.update(tasks[label], total=1, completed=1)

    return update


def collect_command(
    platform: Annotated[
        list[Source] | None,
        typer.Option(
            "--platform",
            "-p",
            help="Platform to collect from; repeat for several (default: the platforms in `sources`, else all four).",
        ),
    ] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Only this configured query.")] = None,
    once: Annotated[bool, typer.Option("--once", help="One poll, then exit.")] = False,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Fetch what the platform still serves (X: 7 days), once.")
    ] = False,
    deletions: Annotated[
        bool,
        typer.Option(
            "--deletions",
            help="Instead of collecting, re-look-up recent posts (30 days) and mark those deleted or made private.",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object for machines.")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")] = None,
) -> None:
    """Collect posts from X, Reddit, Bluesky and Mastodon (only collect: no analysis, no drafts).

    Exit status: 0 when no run failed (items that could not be stored are in `kikimimi quarantine list`);
    1 when nothing was collected (every run failed, or no platform could start); 3 when some runs failed
    and others collected.
    """
    from listener.runner import collect_pass  # the collectors and their platform clients: only when collecting

    settings = load_settings(config)
    platforms = [p.value for p in platform] if platform else _default_platforms(settings)
    if deletions:
        _deletions(settings, platforms, json_output)
        return
    stop = threading.Event()
    if not (once or backfill):
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        console.print(f"polling every {settings.poll_interval_seconds}s; Ctrl-C stops after the current pass")
    code = 0
    while True:
        with open_session(settings) as session:
            if json_output:
                summary = collect_pass(session, settings, platforms, query_name=query, backfill=backfill)
            else:
                with _progress() as progress:
                    summary = collect_pass(
                        session,
                        settings,
                        platforms,
                        query_name=query,
                        backfill=backfill,
                        on_progress=_progress_callback(progress),
                    )
        _report(summary, json_output)
        code = exit_code(summary)
        if summary.skipped and not summary.runs:
            err_console.print("nothing to poll: every platform asked for is missing its credentials")
            break
        if once or backfill or stop.wait(settings.poll_interval_seconds):
            break
    if code == NOTHING_COLLECTED and summary.runs:
        err_console.print("nothing was collected: every run failed (see the errors above)")
    if code:
        raise typer.Exit(code)


NOTHING_COLLECTED = 1
SOME_FAILED = 3


def exit_code(summary: CollectSummary) -> int:
    """0: no run failed; 1: nothing collected (all failed, or none could start); 3: some failed, some collected."""
    if not summary.runs:
        return NOTHING_COLLECTED if summary.skipped else 0
    failed = [r for r in summary.runs if r.status == "failed"]
    if not failed:
        return 0
    return NOTHING_COLLECTED if len(failed) == len(summary.runs) else SOME_FAILED


def _default_platforms(settings: Settings) -> list[str]:
    configured = [s for s in settings.sources if s in PLATFORMS]
    return configured or list(PLATFORMS)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console, transient=True
    )


def _deletions(settings: Settings, platforms: list[str], json_output: bool) -> None:
    """`collect --deletions`: one bounded deletion check per platform; exit 1 when every check failed."""
    from listener.deletions import deletion_pass

    with open_session(settings) as session:
        runs, skipped = deletion_pass(session, settings, platforms)
    if json_output:
        typer.echo(json.dumps({"deletions": [r.as_dict() for r in runs], "skipped": skipped}, indent=2))
    else:
        table = Table("platform", "checked", "deleted or private", "requests", "status", title="deletions")
        for r in runs:
            table.add_row(
                r.platform,
                str(r.checked),
                str(r.deleted),
                str(r.requests),
                Text(r.status if not r.error else f"{r.status}: {r.error}"),
            )
        if runs:
            console.print(table)
        for name, message in skipped.items():
            console.print(f"[yellow]{name} skipped:[/] {message}", highlight=False)
    if (runs and all(r.status == "failed" for r in runs)) or (skipped and not runs):
        raise typer.Exit(NOTHING_COLLECTED)


def _report(summary: CollectSummary, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    columns = ("platform", "query", "mode", "status", "requests", "seen", "new", "duplicates", "errors", "quarantined")
    table = Table(*columns, title="collected")
    for r in summary.runs:
        status = r.status if not r.error_message else f"{r.status}: {r.error_message}"
        table.add_row(
            r.platform,
            r.query_name,
            r.mode,
            Text(status),  # a platform's error is shown as it is, never read as rich markup
            str(r.requests),
            str(r.items_seen),
            str(r.new_posts),
            str(r.duplicates),
            str(r.errors),
            str(r.quarantined),
        )
    if summary.runs:
        console.print(table)
    for platform, message in summary.skipped.items():
        console.print(f"[yellow]{platform} skipped:[/] {message}", highlight=False)
    for state in summary.budgets:
        if state["budget"] is not None:
            style = "red" if state["spent"] else "dim"
            console.print(Text(budget_line(BudgetState(**state)), style=style))


def bench_ingest(
    posts: Annotated[int, typer.Option(help="Posts to store in the throughput run.")] = 20_000,
    polls: Annotated[int, typer.Option(help="Simulated polls, 5 minutes apart (288 = one day).")] = 288,
    per_hour: Annotated[float, typer.Option(help="Matching posts per hour per platform in the simulation.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated arrivals.")] = 7,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object for machines.")] = False,
) -> None:
    """Posts/s through normalise → upsert into SQLite, and API requests per new post when polling steadily."""
    from listener.bench import run_benchmark

    with err_console.status("measuring …"):
        result = run_benchmark(posts=posts, polls=polls, per_hour=per_hour, seed=seed)
    if json_output:
        typer.echo(json.dumps(result, indent=2))
        return
    t = result["throughput"]
    table = Table("path", "posts/s", title=f"ingest throughput ({t['posts']} posts, SQLite, pages of 100)")
    table.add_row("normalise only", f"{t['normalise_per_s']:,.0f}")
    table.add_row("normalise → upsert → commit (new posts)", f"{t['store_new_per_s']:,.0f}")
    table.add_row("normalise → upsert → commit (all duplicates)", f"{t['store_duplicates_per_s']:,.0f}")
    console.print(table)
    p = result["polling"]
    title = (
        f"steady-state polling: {p['polls']} polls every {p['interval_minutes']} min,"
        f" ~{p['matching_posts_per_hour']:g} matching posts/hour/platform (seed {p['seed']})"
    )
    table = Table("platform", "requests", "new posts", "duplicates", "requests per new post", title=title)
    for row in p["platforms"]:
        table.add_row(
            row["platform"],
            str(row["requests"]),
            str(row["new_posts"]),
            str(row["duplicates"]),
            f"{row['requests_per_new_post']:.2f}",
        )
    console.print(table)
