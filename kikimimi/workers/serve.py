"""Run one worker process: Dramatiq worker threads on the chosen queues, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import dramatiq

from kikimimi.errors import ConfigError
from kikimimi.workers.tasks import QUEUES, WorkerContext, configure, declare

log = logging.getLogger(__name__)
STOP_TIMEOUT_MS = 60_000  # on SIGTERM, running tasks get this long to finish; the rest go back on their queue


def parse_queues(text: str) -> list[str]:
    """`collect,analyse` -> ["collect", "analyse"]; an unknown name is a clear error."""
    names = [q.strip() for q in text.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUEUES]
    if unknown or not names:
        raise ConfigError(f"--queues: unknown queue {', '.join(unknown) or '(none)'} (choose from {', '.join(QUEUES)})")
    return names


def serve(
    context: WorkerContext, broker: dramatiq.Broker, queues: Iterable[str], threads: int, stop: threading.Event
) -> None:
    """Take messages from `queues` with `threads` worker threads until `stop` is set, then shut down cleanly."""
    configure(context)
    declare(broker)
    worker = dramatiq.Worker(broker, queues=set(queues), worker_threads=threads)
    worker.start()
    log.info("worker on %s with %d threads", ", ".join(sorted(set(queues))), threads)
    try:
        stop.wait()
    finally:
        worker.stop(timeout=STOP_TIMEOUT_MS)
        broker.close()
