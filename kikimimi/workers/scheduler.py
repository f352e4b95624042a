"""The scheduler: every poll interval, a collection per configured source, the retention sweep and the alerts
check; every posting interval, a posting pass. Run one per deployment; the tasks themselves stay safe if two run."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kikimimi.settings import Settings
from kikimimi.workers.tasks import send

log = logging.getLogger(__name__)


@dataclass
class Due:
    """When (monotonic seconds) the next polls and the next posting pass are due."""

    collect: float = 0.0
    post: float = 0.0


def tick(settings: Settings, due: Due, now: float) -> list[str]:
    """Queue whatever is due at `now`, move `due` on; returns what was queued (for the log and tests)."""
    queued: list[str] = []
    if now >= due.collect:
        for source in settings.sources:
            send("collect", source)
            queued.append(f"collect:{source}")
        for housekeeping in ("retention", "alerts"):
            send(housekeeping)
            queued.append(housekeeping)
        due.collect = now + settings.poll_interval_seconds
    if now >= due.post:
        send("post")
        queued.append("post")
        due.post = now + settings.post_interval_seconds
    return queued


def run_scheduler(settings: Settings, stop: threading.Event, *, once: bool = False) -> None:
    """Queue polls and posting passes on time until `stop` is set (the actors must be declared)."""
    due = Due()
    while not stop.is_set():
        queued = tick(settings, due, time.monotonic())
        log.info("queued %s", ", ".join(queued))
        if once:
            return
        stop.wait(max(0.0, min(due.collect, due.post) - time.monotonic()))
