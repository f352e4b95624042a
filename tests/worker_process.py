"""A worker process for tests/test_workers.py: `kikimimi worker`'s own `serve`, with the fake platform as poster,
short leases and heartbeats (so a killed worker's work moves on in seconds), and optionally a slow or flaky
analyzer. Configured by environment variables; killed with SIGKILL or stopped with SIGTERM by the test."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from tests.faketime_support import patch_sleep

patch_sleep()

from dramatiq.brokers.redis import MAINTENANCE_SCALE  # noqa: E402 - after the sleep patch

from kikimimi.settings import load_settings  # noqa: E402
from kikimimi.workers.broker import make_broker  # noqa: E402
from kikimimi.workers.serve import serve  # noqa: E402
from kikimimi.workers.tasks import WorkerContext  # noqa: E402
from nlp_models.analyzer import get_analyzer  # noqa: E402
from responder.fake_platform import FilePlatform  # noqa: E402
from responder.posting import LookupPolicy  # noqa: E402

HEARTBEAT_TIMEOUT_MS = 1500  # a worker silent this long is dead: its messages go to the others
LEASE_SECONDS = 1.0
PLATFORM_LAG = 0.3


class TestAnalyzer:
    """The baseline analyzer, `WORKER_ANALYSIS_DELAY` seconds slower per batch (touching `WORKER_MARK` when a batch
    starts, so the test knows when to kill), raising on the first `WORKER_ANALYSIS_FAILURES` batches."""

    def __init__(self) -> None:
        self.inner = get_analyzer("baseline")
        self.name, self.versions = self.inner.name, self.inner.versions
        self.delay = float(os.environ.get("WORKER_ANALYSIS_DELAY", "0"))
        self.failures = int(os.environ.get("WORKER_ANALYSIS_FAILURES", "0"))
        self.mark = os.environ.get("WORKER_MARK")

    def analyse(self, texts, addresses_brand=None):  # noqa: ANN001, ANN201 - the Analyzer protocol
        if self.mark:
            Path(self.mark).touch()
        time.sleep(self.delay)
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("the analysis crashed (a test fault)")
        return self.inner.analyse(texts, addresses_brand)


class HangingPlatform(FilePlatform):
    """The fake platform, whose reply first hangs `WORKER_REPLY_HANG` seconds (a call the test kills inside)."""

    def reply(self, post, text, *, idempotency_key):  # noqa: ANN001, ANN201 - the Poster protocol
        time.sleep(float(os.environ.get("WORKER_REPLY_HANG", "0")))
        return super().reply(post, text, idempotency_key=idempotency_key)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s", stream=sys.stderr)
    settings = load_settings()
    analyzer = TestAnalyzer()
    platform_path = os.environ.get("WORKER_PLATFORM")
    context = WorkerContext(
        settings,
        posters=(lambda: {"x": HangingPlatform(platform_path, lag=PLATFORM_LAG, latency=0.3)})
        if platform_path
        else None,
        analyzers=lambda: analyzer,
        lease_seconds=LEASE_SECONDS,
        lookup=LookupPolicy(lag_seconds=PLATFORM_LAG + 0.3, first_delay=0.05, max_delay=0.2, max_attempts=40),
        analysis_batch=5,
    )
    broker = make_broker(
        settings.broker_url,
        heartbeat_timeout_ms=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_SCALE,  # every broker call looks for dead workers
        min_backoff_ms=100,
        max_backoff_ms=500,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    serve(context, broker, os.environ["WORKER_QUEUES"].split(","), 1, stop)


if __name__ == "__main__":
    main()
