"""The `kikimimi` command line: people get progress bars and tables, machines get --json."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from kikimimi import __version__
from kikimimi.commands.alerts import alerts_app
from kikimimi.commands.bench import bench_app
from kikimimi.commands.collect import collect_command
from kikimimi.commands.erase import erase_command
from kikimimi.commands.export import export_app
from kikimimi.commands.faq import eval_faq, faq_app
from kikimimi.commands.nlp import eval_app
from kikimimi.commands.posting import posting_app
from kikimimi.commands.quarantine import quarantine_app
from kikimimi.commands.workers import scheduler_command, worker_command
from kikimimi.db import database_unreachable, migrate, open_session
from kikimimi.errors import KikimimiError
from kikimimi.models import Role, User
from kikimimi.redact import install_redaction
from kikimimi.settings import EXAMPLE_CONFIG, Settings, load_settings

if TYPE_CHECKING:
    from kikimimi.pipeline import RunSummary

# The pipeline and its stages (models, platform clients) are imported by the commands that run them, so that
# `kikimimi users list` or `kikimimi db upgrade` start in a fraction of the whole pipeline's import time.

app = typer.Typer(
    help="Kikimimi (聞き耳): listen to social media, understand posts, draft replies for approval.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Manage who may edit and approve replies.", no_args_is_help=True)
app.add_typer(users_app, name="users")
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command(name="collect")(collect_command)
app.command(name="erase")(erase_command)
app.add_typer(bench_app, name="bench")
app.add_typer(alerts_app, name="alerts")
app.add_typer(eval_app, name="eval")
eval_app.command("faq")(eval_faq)
app.add_typer(export_app, name="export")
app.add_typer(faq_app, name="faq")
app.add_typer(posting_app, name="posting")
app.add_typer(quarantine_app, name="quarantine")
app.command(name="worker")(worker_command)
app.command(name="scheduler")(scheduler_command)
console = Console()
err_console = Console(stderr=True)
log = logging.getLogger("kikimimi")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML config file (default: $KIKIMIMI_CONFIG, ./kikimimi.toml, or the user config dir)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object for machines.")]


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what each stage does.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(__version__)
        raise typer.Exit()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    install_redaction()  # tokens and passwords never reach the log, whichever library logs them


@app.command()
def init(
    path: Annotated[Path, typer.Option(help="Where to write the example config.")] = Path("kikimimi.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented example kikimimi.toml and create (or upgrade) the database."""
    if path.exists() and not force:
        console.print(f"[yellow]{path} exists; keeping it[/] (use --force to overwrite)")
    else:
        shutil.copyfile(EXAMPLE_CONFIG, path)
        console.print(f"wrote {path}: edit the brands and queries, then run [bold]kikimimi run --once[/]")
    settings = load_settings(path)
    with open_session(settings) as session:
        admin = session.exec(select(User).where(User.name == "admin")).first()
        needs_password = admin is not None and admin.password_hash is None
    console.print(f"database ready: {_safe_url(settings.database_url)}")
    if needs_password:
        console.print(
            "to sign in to the dashboard, give the first admin a password: [bold]kikimimi users passwd admin[/]",
            soft_wrap=True,
        )


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[int | None, typer.Option(help="Seconds between passes (default: the setting).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Collect from configured sources, analyse new posts, draft replies; repeat until Ctrl-C unless --once."""
    settings = load_settings(config)
    if once:
        _report(_run_with_progress(settings, quiet=json_output), json_output)
        return
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    every = interval or settings.poll_interval_seconds
    console.print(f"polling every {every}s; Ctrl-C stops after the current pass")
    while not stop.is_set():
        _report(_run_with_progress(settings, quiet=json_output), json_output)
        stop.wait(every)
    console.print("stopped")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the configured database to the newest schema (processes that start together take turns)."""
    settings = load_settings(config, fallback_to_example=True)
    migrate(settings.database_url)
    console.print(f"database at the newest schema: {_safe_url(settings.database_url)}")


@db_app.command("rebuild-summaries")
def db_rebuild_summaries(config: ConfigOption = None) -> None:
    """Recompute the service-level and spike summaries from every stored post (each pass keeps them up to date;
    the triggers mark what changed, so a rebuild is for a damaged database or a restore from a dump)."""
    from responder import hour_counts, sla, sla_facts, sla_hours

    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        written = sla_facts.rebuild(session, settings)
        sla_hours.clear(session)
        frts = sla.refresh_hours(session, settings)
        hour_counts.clear(session)
        hours = hour_counts.refresh(session)
    console.print(
        f"summaries rebuilt: {written} posts that needed a reply, {frts} hours of first responses, {hours} hour counts"
    )


@app.command()
def analyse(
    config: ConfigOption = None,
    redo: Annotated[bool, typer.Option("--redo", help="Re-analyse posts analysed by other model versions.")] = False,
    backend: Annotated[str | None, typer.Option(help="Analysis backend (default: the setting).")] = None,
) -> None:
    """Analyse stored posts that have no current analysis."""
    from kikimimi.pipeline import backend_options
    from nlp_models.analyzer import get_analyzer
    from nlp_models.stage import analyse_pending

    settings = load_settings(config)
    analyzer = get_analyzer(backend or settings.analysis_backend, **backend_options(settings))
    with open_session(settings) as session, _progress() as progress:
        task = progress.add_task("analyse", total=None)
        done = analyse_pending(
            session, analyzer, redo=redo, on_batch=lambda d, t: progress.update(task, completed=d, total=t)
        )
    console.print(f"analysed {done} posts with the {analyzer.name} backend")


@app.command(name="stats")
def stats_command(
    config: ConfigOption = None,
    json_output: JsonOption = False,
) -> None:
    """Counts: posts, analysed, questions, drafts by state, FAQ clusters."""
    from kikimimi.stats import stats as count_everything

    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        counts = count_everything(session, settings)
    if json_output:
        typer.echo(json.dumps(counts, ensure_ascii=False, indent=2))
        return
    table = Table("what", "count", title=f"Kikimimi — {_safe_url(settings.database_url)}")
    for key, value in counts.items():
        if key == "read_budget":
            for state in value:
                table.add_row(f"reads {state['period']}: {state['platform']}", _budget_cell(state))
        elif isinstance(value, dict):
            for sub, n in value.items():
                table.add_row(f"{key}: {sub}", str(n))
        else:
            table.add_row(key, str(value))
    console.print(table)


def _budget_cell(state: dict) -> str:
    if state["budget"] is None:
        return f"{state['read']} (no budget)"
    spent = f" — used up, resumes {state['resumes']}" if state["spent"] else ""
    return f"{state['read']} of {state['budget']}{spent}"


HostOption = Annotated[
    str, typer.Option(help="Address to serve on: 127.0.0.1 (this machine only) unless you mean otherwise.")
]


@app.command()
def dashboard(
    config: ConfigOption = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    host: HostOption = "127.0.0.1",
) -> None:
    """Open the Streamlit dashboard (reply queue, trends, FAQ, service levels); people sign in."""
    settings = load_settings(config, fallback_to_example=True)
    _serve_dashboard(settings, port, host)


@app.command()
def demo(
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Run the pipeline only (headless).")] = False,
    port: Annotated[int, typer.Option(help="Dashboard port.")] = 8501,
    host: HostOption = "127.0.0.1",
    admin_password: Annotated[
        str | None,
        typer.Option(help="The first admin's password (default: generated and printed once, on a fresh database)."),
    ] = None,
) -> None:
    """The whole pipeline on the bundled sample feed (SQLite in your data dir), then the dashboard."""
    settings = load_settings(EXAMPLE_CONFIG)
    console.print(f"demo database: {_safe_url(settings.database_url)}")
    summary = _run_with_progress(settings)
    _report(summary, json_output=False)
    _first_admin(settings, admin_password)
    if not no_dashboard:
        _serve_dashboard(settings, port, host)


def _first_admin(settings: Settings, password: str | None) -> None:
    """Give the first admin a password (generated and shown once) unless it has one; say how to sign in."""
    from kikimimi import accounts, audit

    with open_session(settings) as session:
        admin = accounts.find_user(session, "admin")
        if admin is None:
            console.print("sign in with one of your users (`kikimimi users list`)")
            return
        if admin.password_hash is not None and password is None:
            console.print(
                "sign in as [bold]admin[/] with the password printed when the demo first ran"
                " (forgot it? `kikimimi users passwd admin`)"
            )
            return
        generated = password is None
        password = password or accounts.generate_password()
        accounts.set_password(session, audit.OPERATOR, "admin", password)
    if generated:
        console.print(
            f"sign in as [bold]admin[/] with the password [bold]{password}[/] (shown only now;"
            " change it with `kikimimi users passwd admin`)",
            soft_wrap=True,
        )
    else:
        console.print("sign in as [bold]admin[/] with the password you gave", soft_wrap=True)


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (for scripts) instead of asking."),
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[Role, typer.Option(help="viewer, responder (edits), approver (approves), admin.")] = Role.responder,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Change only the role of an existing user (no prompt).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add a user with a password (asked twice, or read from stdin), or change an existing user's role."""
    from kikimimi import accounts, audit

    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        exists = accounts.find_user(session, name) is not None
        password = None if (no_password and exists) else _read_password(password_stdin)
        user = accounts.add_user(session, audit.OPERATOR, name, role, password=password)
    console.print(f"{user.name}: {user.role}" + (" · password set: sign in to the dashboard" if password else ""))


@users_app.command("passwd")
def users_passwd(name: str, password_stdin: PasswordStdin = False, config: ConfigOption = None) -> None:
    """Set a user's password (their other dashboard sessions end, and a lock-out is lifted)."""
    from kikimimi import accounts, audit

    settings = load_settings(config, fallback_to_example=True)
    with open_session(settings) as session:
        if accounts.find_user(session, name) is None:
            raise KikimimiError(f"unknown user {name!r}: add one with `kikimimi users add NAME --role ROLE`")
        accounts.set_password(session, audit.OPERATOR, name, _read_password(password_stdin))
    console.print(f"{name}: password changed")


@users_app.command("deactivate")
def users_deactivate(name: str, config: ConfigOption = None) -> None:
    """Stop a user from signing in (their sessions end at once); `kikimimi users add` with a role does not undo it."""
    from kikimimi import accounts, audit

    with open_session(load_settings(config, fallback_to_example=True)) as session:
        accounts.set_active(session, audit.OPERATOR, name, False)
    console.print(f"{name}: deactivated")


@users_app.command("list")
def users_list(config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """List users: role, whether they can sign in, and lock-outs."""
    from sqlmodel import select

    from kikimimi.timeutil import utcnow

    settings = load_settings(config, fallback_to_example=True)
    now = utcnow()
    with open_session(settings) as session:
        rows = [
            {
                "name": u.name,
                "role": str(u.role),
                "active": u.active,
                "password": u.password_hash is not None,
                "locked_until": u.locked_until.isoformat() if u.locked_until and u.locked_until > now else None,
                "locale": u.locale,
                "time_zone": u.time_zone,
            }
            for u in session.exec(select(User).order_by(User.name))
        ]
    if json_output:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("name", "role", "can sign in", "locked until")
    for r in rows:
        can = "yes" if r["active"] and r["password"] else ("deactivated" if not r["active"] else "no password yet")
        table.add_row(r["name"], r["role"], can, r["locked_until"] or "")
    console.print(table)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def _run_with_progress(settings: Settings, quiet: bool = False) -> RunSummary:
    from kikimimi.pipeline import run_once

    if quiet:
        return run_once(settings)
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        return run_once(settings, progress=update)


def _report(summary: RunSummary, json_output: bool) -> None:
    posting = summary.posting
    data = {
        "collected": [
            {
                "source": r.platform,
                "query": r.query_name,
                "status": r.status,
                "requests": r.requests,
                "items_seen": r.items_seen,
                "new_posts": r.new_posts,
                "duplicates": r.duplicates,
                "errors": r.errors,
            }
            for r in summary.runs
        ],
        "source_errors": summary.source_errors,
        "erased_by_retention": summary.erased,
        "analysed": summary.analysed,
        "faq_candidates": summary.faq.candidates if summary.faq else 0,
        "drafted": summary.drafted,
        "posted": len(posting.posted),
        "would_post": posting.would_post_total,
        "failed": len(posting.failed),
        # posting exactly once: an unknown outcome is looked up, never posted again
        "posting_paused": posting.paused,
        "unknown": len(posting.unknown),
        "reconciled": len(posting.reconciled),
        "reconciled_posted": len(posting.reconciled_posted),
        "reconciled_not_posted": len(posting.reconciled_not_posted),
        "held_unknown": len(posting.held_unknown),
        "awaiting_retry": len(posting.awaiting_retry),
        "in_flight": len(posting.in_flight),
        "alerts": asdict(summary.alerts) if summary.alerts else None,
    }
    if json_output:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table("source", "query", "status", "seen", "new", "duplicates", "errors", title="collected")
    for r in data["collected"]:
        table.add_row(
            r["source"],
            r["query"],
            r["status"],
            str(r["items_seen"]),
            str(r["new_posts"]),
            str(r["duplicates"]),
            str(r["errors"]),
        )
    console.print(table)
    for source, error in summary.source_errors.items():
        console.print(f"[yellow]{source} skipped:[/] {error}")
    console.print(
        f"analysed {summary.analysed} · FAQ candidates {data['faq_candidates']} · drafted {summary.drafted}"
        f" · posted {len(posting.posted)}"
        f" · dry-run {posting.would_post_total} · failed {len(posting.failed)}"
        + (f" · erased past retention {summary.erased}" if summary.erased else "")
        + (f" · alerts raised {summary.alerts.raised}" if summary.alerts else "")
    )
    if posting.paused:
        console.print("[red]posting is paused[/] (`kikimimi posting status`): nothing was sent after the switch")
    if posting.unknown or posting.reconciled or posting.held_unknown or posting.awaiting_retry:
        console.print(
            f"outcome unknown {len(posting.unknown)} · reconciled {len(posting.reconciled)}"
            f" (found {len(posting.reconciled_posted)}, not posted {len(posting.reconciled_not_posted)})"
            f" · still unknown, not re-posted {len(posting.held_unknown)}"
            f" · waiting for Retry {len(posting.awaiting_retry)}"
        )


def _serve_dashboard(settings: Settings, port: int, host: str = "127.0.0.1") -> None:
    migrate(settings.database_url)
    env = {**os.environ, "KIKIMIMI_DATABASE_URL": settings.database_url}
    if settings.config_path:
        env["KIKIMIMI_CONFIG"] = str(settings.config_path)
    import dashboard

    app_path = Path(dashboard.__file__).resolve().parent / "app.py"
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    console.print(f"dashboard: [bold]http://{shown}:{port}[/] (Ctrl-C to stop)")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--client.toolbarMode",
        "minimal",  # no Deploy or Clear-cache items for the people working the queue
        "--browser.gatherUsageStats",
        "false",
    ]
    try:
        subprocess.run(cmd, env=env, check=False)
    except KeyboardInterrupt:
        pass


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    try:
        app()
    except KikimimiError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
    except OperationalError as exc:  # the database cannot be reached or opened: one line, not a traceback
        err_console.print(f"[red]error:[/] {database_unreachable(exc)}", soft_wrap=True)
        sys.exit(2)
