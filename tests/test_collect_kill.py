"""kill -9 while collecting: a subprocess polls a fake Mastodon server on 127.0.0.1 and is killed with SIGKILL
at random moments; afterwards no post is lost, none is stored twice, the cursor is right, every run is closed,
and the month's read count holds each stored page exactly once (it commits with the page)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, func, select

from kikimimi.db import get_engine, migrate
from kikimimi.models import CollectorRun, Cursor, Post, ReadUsage
from kikimimi.settings import QueryConfig, load_settings
from tests.collect_support import fixture
from tests.conftest import TEST_NOW

ROOT = Path(__file__).resolve().parent.parent
FIRST, TOTAL = 10_001, 600  # statuses 10001..10600; the cursor starts just below them
LAST = FIRST + TOTAL - 1
KILLS = 6
REQUEST_DELAY = 0.01  # per answer: collection takes long enough for kills to land in it
QUERY = QueryConfig(name="tag", hashtags=["komorebitea"], mention_handles=False, platforms=["mastodon"])
CONFIG = """
sources = ["mastodon"]
[[brands]]
name = "Komorebi Tea"
[[brands.queries]]
name = "tag"
hashtags = ["komorebitea"]
mention_handles = false
platforms = ["mastodon"]
"""


def status(number: int) -> dict[str, Any]:
    return {
        "id": str(number),
        "created_at": "2026-11-20T08:00:00.000Z",
        "visibility": "public",
        "language": "en",
        "url": f"https://mastodon.example/@fan/{number}",
        "content": f"<p>#komorebitea number {number}</p>",
        "in_reply_to_id": None,
        "account": {"id": "7", "username": "fan", "acct": "fan", "url": "https://mastodon.example/@fan"},
    }


@contextmanager
def fake_mastodon() -> Iterator[str]:
    """`timeline_hashtag` with min_id paging (the `limit` statuses right above min_id, newest first)."""
    instance = json.dumps(fixture("mastodon", "instance_v2.json")).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if "/instance" in parts.path:
                body = instance
            elif parts.path.endswith("/timelines/tag/komorebitea"):
                above = int(params.get("min_id", LAST - 40))
                numbers = list(range(max(above + 1, FIRST), LAST + 1))[: int(params.get("limit", 20))]
                body = json.dumps([status(n) for n in reversed(numbers)]).encode()
                time.sleep(REQUEST_DELAY)
            else:
                self.send_response(404)
                self.end_headers()
                return
            try:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client was killed mid-answer
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.collect_kill_worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def stored(engine) -> int:  # noqa: ANN001
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Post)).one()


@pytest.mark.integration
def test_sigkill_at_random_moments_loses_nothing_and_stores_nothing_twice(tmp_path):
    config = tmp_path / "kikimimi.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config)
    migrate(settings.database_url)
    engine = get_engine(settings.database_url)
    with Session(engine) as session:  # as if earlier polls had stored everything up to FIRST - 1
        start = json.dumps({"tag:komorebitea": str(FIRST - 1)}, separators=(",", ":"))
        session.add(Cursor(platform="mastodon", query_key=QUERY.key, position=start))
        session.commit()
    rng = random.Random(12)
    kills, progress = 0, []
    with fake_mastodon() as url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KIKIMIMI_")},
            "KIKIMIMI_CONFIG": str(config),
            "KIKIMIMI_DATABASE_URL": settings.database_url,
            "KIKIMIMI_NOW": TEST_NOW.isoformat(),
            "MASTODON_API_BASE_URL": url,
            "MASTODON_ACCESS_TOKEN": "<token>",
            "KILL_TEST_LAST": str(LAST),
        }
        for _ in range(KILLS):
            proc = worker(env)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            stored_before = progress[-1] if progress else 0
            deadline = time.monotonic() + 30  # on a loaded machine the first store can take a while: wait for it
            while proc.poll() is None and time.monotonic() < deadline and stored(engine) <= stored_before:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))  # then a random moment while it stores
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=10)
            progress.append(stored(engine))
        final = worker(env)
        assert final.wait(timeout=20) == 0  # the last, unkilled worker finishes the job
    mid_run = [n for before, n in zip([0, *progress], progress, strict=False) if before < n < TOTAL]
    assert kills >= KILLS - 1 and len(mid_run) >= 2, progress  # the kills landed while posts were being stored

    with Session(engine) as session:
        numbers = sorted(int(i) for i in session.exec(select(Post.external_id).where(Post.platform == "mastodon")))
        assert numbers == list(range(FIRST, LAST + 1))  # none lost, none twice
        cursor = session.exec(select(Cursor).where(Cursor.platform == "mastodon")).one()
        assert json.loads(cursor.position) == {"tag:komorebitea": str(LAST)}
        running = session.exec(select(func.count()).select_from(CollectorRun).where(CollectorRun.status == "running"))
        assert running.one() == 0  # interrupted runs are closed by the next run
        assert session.exec(select(ReadUsage.items).where(ReadUsage.platform == "mastodon")).one() == TOTAL
