"""`kikimimi worker` and `kikimimi scheduler`: the pipeline as Dramatiq tasks on Redis, for several machines.

Dramatiq is imported only inside these commands (the optional `workers` extra), so `kikimimi run` never loads it.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kikimimi.errors import ConfigError
from kikimimi.settings import Settings, load_settings

console = Console(stderr=True)
ALL_QUEUES = "collect,analyse,faq,draft,post"

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")]


def _engine_modules():  # type: ignore[no-untyped-def]
    try:
        from kikimimi.workers import broker, scheduler, serve, tasks
    except ImportError as exc:
        raise ConfigError(f"workers need the extra: pip install 'kikimimi[workers]' ({exc})") from None
    return broker, scheduler, serve, tasks


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def _broker_for(settings: Settings):  # type: ignore[no-untyped-def]
    broker_module = _engine_modules()[0]
    broker = broker_module.make_broker(settings.broker_url)
    broker_module.check_reachable(broker, settings.broker_url)
    return broker


def worker_command(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to take work from.")] = ALL_QUEUES,
    threads: Annotated[int, typer.Option(min=1, help="Worker threads in this process.")] = 4,
    backend: Annotated[
        str | None, typer.Option(help="Analysis backend (default: the setting; a GPU worker: transformers).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run a worker: take collect, analyse, faq, draft and post tasks from Redis until Ctrl-C or SIGTERM."""
    from kikimimi.db import open_session

    settings = load_settings(config)
    if backend:
        settings = settings.model_copy(update={"analysis_backend": backend})
    _, _, serve, tasks = _engine_modules()
    names = serve.parse_queues(queues)
    broker = _broker_for(settings)
    open_session(settings).close()  # the database is on the newest schema before the first task
    context = tasks.WorkerContext(settings)
    if "analyse" in names:
        context.analyzer()  # load the models now, not inside the first task
    console.print(f"worker on {', '.join(names)} ({threads} threads); Ctrl-C stops it after the running tasks")
    serve.serve(context, broker, names, threads, _stop_on_signals())


def scheduler_command(
    once: Annotated[bool, typer.Option("--once", help="Queue one round of polls and posting, then exit.")] = False,
    config: ConfigOption = None,
) -> None:
    """Queue a poll of every source each poll interval, and a posting pass each posting interval."""
    settings = load_settings(config)
    _, scheduler, _, tasks = _engine_modules()
    tasks.declare(_broker_for(settings))
    if not once:
        console.print(
            f"polling every {settings.poll_interval_seconds}s, posting every {settings.post_interval_seconds}s;"
            " Ctrl-C stops it"
        )
    scheduler.run_scheduler(settings, _stop_on_signals(), once=once)
