"""Workers on Dramatiq, on a real Redis and a real PostgreSQL: a worker killed with SIGKILL mid-task loses no post
and posts no reply twice; two workers on one queue never store two analyses of one post or post one reply twice;
a task that crashed is retried and finishes the job; `kikimimi worker` and `kikimimi scheduler` run the pipeline.

Worker processes are `tests/worker_process.py` (the worker's own `serve`, with the fake platform of the posting
trials, short leases and heartbeats); each test gets a fresh database and an empty Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlmodel import Session, col, func, select

from kikimimi.db import get_engine, migrate
from kikimimi.errors import ConfigError
from kikimimi.models import Analysis, Author, DraftState, Post, ReplyDraft
from kikimimi.settings import load_settings
from kikimimi.workers import tasks
from kikimimi.workers.broker import check_reachable, make_broker
from kikimimi.workers.locks import advisory_lock
from kikimimi.workers.scheduler import Due, tick
from kikimimi.workers.tasks import chunks, declare, send
from nlp_models.analyzer import get_analyzer
from nlp_models.stage import analyse_pending
from responder.fake_platform import FilePlatform
from responder.posting import idempotency_key
from responder.trials import _retry_not_posted, _seed_database
from tests.conftest import TEST_NOW
from tests.postgres_server import fresh_database, required_postgres
from tests.redis_server import required_redis

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """
sources = ["sample"]
analysis_backend = "baseline"
live_posting = {live}
[[brands]]
name = "Komorebi Tea"
handles = {{ x = ["komorebi_tea"] }}
[[brands.queries]]
name = "brand"
keywords = ["komorebi tea"]
"""
TEXTS = ["where is my order?", "the matcha arrived broken", "love this tea", "do you ship to Osaka?"]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    with required_postgres() as pg, required_redis() as rd:
        yield pg, rd


@dataclass
class Stack:
    """A fresh database, an empty Redis, a config for both, and the worker processes a test started."""

    url: str
    broker_url: str
    root: Path
    workers: list[subprocess.Popen] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "KIKIMIMI_CONFIG": str(self.root / "kikimimi.toml"),
            "KIKIMIMI_DATABASE_URL": self.url,
            "KIKIMIMI_BROKER_URL": self.broker_url,
            "PYTHONPATH": str(ROOT),
            "dramatiq_queue_prefetch": "1",  # one message at a time per worker: two workers share a queue's work
            **extra,
        }

    def worker(self, queues: str, **extra: str) -> subprocess.Popen:
        """Start `tests/worker_process.py` on `queues`; return once it is about to take messages."""
        [process] = self.start_workers((queues, extra))
        return process

    def start_workers(self, *specs: tuple[str, dict[str, str]]) -> list[subprocess.Popen]:
        """Start one worker per (queues, environment) at once (their start-ups overlap); wait until all are up."""
        started = []
        for queues, extra in specs:
            log = (self.root / f"worker-{len(self.workers)}.log").open("w")
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.worker_process"],
                cwd=ROOT,
                env=self.env(WORKER_QUEUES=queues, **extra),
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            self.workers.append(process)
            started.append(process)
        for process in started:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready", self.logs()
        return started

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.root.glob("worker-*.log")))

    def session(self) -> Session:
        return Session(get_engine(self.url), expire_on_commit=False)


@pytest.fixture
def stack(servers: tuple[str, str], tmp_path: Path) -> Iterator[Stack]:
    pg, rd = servers
    url = fresh_database(pg, "w")
    migrate(url)
    redis.Redis.from_url(rd).flushall()
    (tmp_path / "kikimimi.toml").write_text(CONFIG.format(live="true"))
    broker = make_broker(rd)
    declare(broker)  # this process sends messages as the scheduler does
    stack = Stack(url, rd, tmp_path)
    yield stack
    for process in stack.workers:
        if process.poll() is None:
            process.kill()
        process.wait(10)
    broker.close()
    get_engine(url).dispose()


def wait_until(condition: Callable[[], bool], seconds: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:.0f}s\n{stack.logs()[-4000:]}")
        time.sleep(0.05)


def seed_posts(stack: Stack | Session, n: int) -> list[int]:
    """`n` posts by one author on X, some asking, some complaining; returns their ids."""
    with stack.session() if isinstance(stack, Stack) else stack as s:
        author = Author(platform="x", external_id="u1", handle="mika", display_name="Mika Tanaka")
        s.add(author)
        s.commit()
        posts = [
            Post(
                platform="x",
                external_id=f"p{i}",
                text=TEXTS[i % len(TEXTS)],
                author_id=author.id,
                created_at=TEST_NOW - timedelta(minutes=i),
                replyable=True,
            )
            for i in range(n)
        ]
        s.add_all(posts)
        s.commit()
        return [p.id for p in posts]


def analyses_per_post(stack: Stack) -> dict[int, int]:
    with stack.session() as s:
        return dict(s.exec(select(Analysis.post_id, func.count()).group_by(Analysis.post_id)).all())


def dead_letters(stack: Stack, queue: str) -> int:
    """Messages Dramatiq gave up on (retries exhausted): a lost job."""
    return int(redis.Redis.from_url(stack.broker_url).zcard(f"kikimimi:{queue}.XQ"))


def test_a_worker_killed_mid_analysis_loses_no_post(stack: Stack) -> None:
    ids = seed_posts(stack, 30)
    mark = stack.root / "analysing"
    doomed = stack.worker("analyse", WORKER_ANALYSIS_DELAY="1.0", WORKER_MARK=str(mark))
    for batch in chunks(ids, 5):
        send("analyse", batch)
    wait_until(mark.exists, 15, "the first worker starts a batch", stack)
    os.kill(doomed.pid, signal.SIGKILL)  # mid-batch: its message is neither done nor acknowledged
    doomed.wait(10)
    assert analyses_per_post(stack) == {}  # it died before storing anything
    stack.worker("analyse")  # the survivor: takes the dead worker's message once its heartbeat is stale
    wait_until(lambda: len(analyses_per_post(stack)) == len(ids), 30, "every post analysed", stack)
    assert analyses_per_post(stack) == dict.fromkeys(ids, 1)  # each post once, none lost
    assert dead_letters(stack, "analyse") == 0


def test_two_workers_on_one_batch_store_one_analysis_per_post(stack: Stack) -> None:
    ids = seed_posts(stack, 8)
    slow = {"WORKER_ANALYSIS_DELAY": "2.0"}
    stack.start_workers(("analyse", slow), ("analyse", slow))
    time.sleep(1.2)  # both consumers are polling (an idle worker polls at least every second)
    send("analyse", ids)  # the same batch twice, as a redelivery or two polls would queue it:
    send("analyse", ids)  # each worker takes one and both analyse the same posts at once
    wait_until(lambda: len(analyses_per_post(stack)) == len(ids), 30, "every post analysed", stack)
    wait_until(
        lambda: "another process analysed posts of this batch meanwhile" in stack.logs(),
        15,
        "the second worker meets the first",
        stack,
    )
    time.sleep(0.5)  # the loser's retry has committed nothing more
    assert analyses_per_post(stack) == dict.fromkeys(ids, 1)
    assert dead_letters(stack, "analyse") == 0


def test_a_crashed_task_is_retried_and_finishes_the_job(stack: Stack) -> None:
    ids = seed_posts(stack, 6)
    stack.worker("analyse,faq,draft", WORKER_ANALYSIS_FAILURES="1")  # the first try raises
    send("analyse", ids)
    wait_until(lambda: len(analyses_per_post(stack)) == len(ids), 30, "every post analysed", stack)
    assert "the analysis crashed" in stack.logs() and "Retrying message" in stack.logs()
    with stack.session() as s:  # the retry went on through FAQ placement to drafting
        needing = set(s.exec(select(Analysis.post_id).where(Analysis.needs_reply)))

    def drafted() -> set[int]:
        with stack.session() as s:  # one session a poll, closed: an open one per poll used up the pool
            return set(s.exec(select(ReplyDraft.post_id)))

    wait_until(lambda: drafted() == needing, 30, "a draft for every post needing a reply", stack)
    with stack.session() as s:
        drafts = s.exec(select(ReplyDraft.post_id, func.count()).group_by(ReplyDraft.post_id)).all()
    assert needing and dict(drafts) == dict.fromkeys(needing, 1)
    assert analyses_per_post(stack) == dict.fromkeys(ids, 1)


def test_a_worker_killed_mid_post_and_a_second_worker_post_each_reply_exactly_once(stack: Stack) -> None:
    draft_ids = _seed_database(stack.url)  # three approved drafts, as the posting trials make them
    platform_path = stack.root / "platform.sqlite3"
    platform = FilePlatform(platform_path)
    doomed = stack.worker("post", WORKER_PLATFORM=str(platform_path), WORKER_REPLY_HANG="60")

    def calling_the_platform(worker: subprocess.Popen) -> bool:
        with stack.session() as s:
            return (
                s.exec(
                    select(ReplyDraft.id).where(
                        col(ReplyDraft.send_started_at).is_not(None),
                        col(ReplyDraft.lease_owner).contains(f":{worker.pid}:"),
                    )
                ).first()
                is not None
            )

    def settled() -> bool:
        with stack.session() as s:
            open_states = [DraftState.approved, DraftState.posting, DraftState.unknown]
            return s.exec(select(ReplyDraft.id).where(col(ReplyDraft.state).in_(open_states))).first() is None

    send("post")
    wait_until(lambda: calling_the_platform(doomed), 20, "the first worker calls the platform", stack)
    survivor = stack.worker("post", WORKER_PLATFORM=str(platform_path))  # while the first hangs in its call
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:  # the scheduler's part: a posting pass asked for again and again
        send("post")
        time.sleep(0.3)
        if doomed.poll() is None and calling_the_platform(survivor):  # both at work on one queue: now the kill
            os.kill(doomed.pid, signal.SIGKILL)  # inside its platform call, after `send`
            doomed.wait(10)
        if doomed.poll() is not None and settled() and not _retry_not_posted(stack.url):
            break  # (a person pressed Retry where a lookup showed nothing was posted)
    assert doomed.returncode == -signal.SIGKILL and survivor.poll() is None, stack.logs()[-3000:]
    per_key = platform.replies_per_key()
    with stack.session() as s:
        for draft_id in draft_ids:
            draft = s.get(ReplyDraft, draft_id)
            key = idempotency_key(draft)
            assert per_key[key] == 1, f"draft {draft_id}: {per_key[key]} replies\n{stack.logs()[-3000:]}"
            assert draft.state == DraftState.posted and draft.posted_external_id in platform.reply_ids(key)


def test_kikimimi_worker_and_scheduler_run_the_pipeline_on_the_sample_feed(stack: Stack) -> None:
    (stack.root / "kikimimi.toml").write_text(CONFIG.format(live="false"))  # dry run: nothing is sent anywhere
    cli = [
        sys.executable,
        "-c",
        "from tests.faketime_support import patch_sleep; patch_sleep(); import kikimimi.cli as c; c.main()",
    ]
    worker = subprocess.Popen([*cli, "worker", "--threads", "2"], cwd=ROOT, env=stack.env(), stderr=subprocess.PIPE)
    stack.workers.append(worker)
    scheduler = subprocess.run(
        [*cli, "scheduler", "--once"], cwd=ROOT, env=stack.env(), capture_output=True, timeout=60
    )
    assert scheduler.returncode == 0, scheduler.stderr.decode()

    def drafted() -> bool:
        with stack.session() as s:
            posts = s.exec(select(func.count()).select_from(Post)).one()
            analysed = s.exec(select(func.count()).select_from(Analysis)).one()
            needing = s.exec(select(func.count()).select_from(Analysis).where(Analysis.needs_reply)).one()
            drafts = s.exec(select(func.count()).select_from(ReplyDraft)).one()
            return posts > 100 and analysed == posts and drafts > 0 and drafts <= needing

    wait_until(drafted, 90, "the sample feed collected, analysed and drafted", stack)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0
    with stack.session() as s:
        per_post = s.exec(select(ReplyDraft.post_id, func.count()).group_by(ReplyDraft.post_id)).all()
    assert {n for _, n in per_post} == {1}


def test_the_broker_is_named_in_one_line_when_it_cannot_be_reached() -> None:
    with pytest.raises(ConfigError) as error:
        check_reachable(make_broker("redis://:hunter22@127.0.0.1:1/0"), "redis://:hunter22@127.0.0.1:1/0")
    message = str(error.value)
    assert message.startswith("cannot reach the broker at redis://") and "127.0.0.1:1" in message
    assert "hunter22" not in message and "\n" not in message
    with pytest.raises(ConfigError, match="not a Redis URL"):
        make_broker("postgresql://db/kikimimi")


def test_an_advisory_lock_lets_one_holder_in(stack: Stack) -> None:
    engine = get_engine(stack.url)
    with advisory_lock(engine, "draft") as first:
        with advisory_lock(engine, "draft", wait=False) as second:
            assert first and not second
    with advisory_lock(engine, "draft", wait=False) as again:
        assert again


def test_the_single_process_run_never_loads_the_worker_engine_and_no_stage_imports_it() -> None:
    probe = "import sys, kikimimi.cli, kikimimi.pipeline; print(sorted(m for m in sys.modules if 'dramatiq' in m))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for stage in ("listener", "nlp_models", "responder"):
        for path in (ROOT / stage).rglob("*.py"):
            source = path.read_text()
            assert "kikimimi.workers" not in source and "dramatiq" not in source, path


def test_drafting_tasks_racing_on_one_batch_leave_one_draft_per_post(stack: Stack) -> None:
    ids = seed_posts(stack, 12)
    settings = load_settings(stack.root / "kikimimi.toml").model_copy(update={"database_url": stack.url})
    with stack.session() as s:
        analyse_pending(s, get_analyzer("baseline"), post_ids=ids)
        needing = set(s.exec(select(Analysis.post_id).where(Analysis.needs_reply)))
    barrier, errors = threading.Barrier(4), []

    def draft_all() -> None:
        try:
            barrier.wait()
            tasks.draft(ids)
        except Exception as exc:  # noqa: BLE001 - the test reports any
            errors.append(repr(exc))

    tasks.configure(tasks.WorkerContext(settings))
    try:
        threads = [threading.Thread(target=draft_all) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        tasks.configure(None)
    assert errors == []
    with stack.session() as s:
        drafts = dict(s.exec(select(ReplyDraft.post_id, func.count()).group_by(ReplyDraft.post_id)).all())
    assert needing and drafts == dict.fromkeys(needing, 1)


def test_the_scheduler_queues_polls_each_poll_interval_and_posting_each_posting_interval(stack: Stack) -> None:
    settings = load_settings(stack.root / "kikimimi.toml").model_copy(
        update={"sources": ["sample", "mastodon"], "poll_interval_seconds": 300, "post_interval_seconds": 30}
    )
    due = Due()
    assert tick(settings, due, 1000.0) == ["collect:sample", "collect:mastodon", "retention", "alerts", "post"]
    assert tick(settings, due, 1010.0) == []
    assert tick(settings, due, 1030.0) == ["post"]
    assert tick(settings, due, 1300.0) == ["collect:sample", "collect:mastodon", "retention", "alerts", "post"]
    queued = redis.Redis.from_url(stack.broker_url)
    assert (queued.llen("kikimimi:collect"), queued.llen("kikimimi:post")) == (8, 3)  # waiting for a worker
