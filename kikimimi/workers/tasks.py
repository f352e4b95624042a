"""One thin task per stage function, each safe to run twice and to be cut off anywhere (Dramatiq runs a task at
least once: a worker killed mid-task has its message handed to another worker, and a task that raised is retried).

    collect(source)    listener.collect_pass for one source, then the search index; queues the new posts' analysis
    analyse(post_ids)  nlp_models.stage.analyse_pending for a batch; then FAQ placement and drafting for it
    place_faq(ids)     responder.faq.place_new_questions; then drafting
    draft(post_ids)    responder.drafting.draft_pending for the batch
    post()             responder.posting.post_approved: approved drafts only, each exactly once (leases)
    retention()        kikimimi.erasure.erase_expired
    alerts()           kikimimi.pipeline.check_alerts: raise each alert once, deliver what is due

Why running twice is harmless:

- **analysis**: a post has one stored analysis (`Analysis.post_id` is unique). A batch analyses only those of its
  posts still without one; a worker that loses a race to the same post gets an IntegrityError at commit, rolls
  back and tries again, and then finds the post analysed.
- **FAQ placement, drafting, the search index, one source's collection**: read "what is left" and write it, so
  each holds a PostgreSQL advisory lock (`kikimimi.workers.locks`) for that stage while it runs; a second run
  finds nothing left. A killed worker's lock dies with its connection.
- **posting**: the leases of `responder/posting.py`: of two workers exactly one claims a draft, a draft whose
  worker died after calling the platform becomes `unknown` and is looked up, never posted again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dramatiq
from sqlalchemy import Engine
from sqlmodel import Session

from kikimimi.db import get_engine
from kikimimi.erasure import erase_expired
from kikimimi.errors import ConfigError
from kikimimi.pipeline import backend_options, check_alerts
from kikimimi.search import index_posts
from kikimimi.settings import Settings
from kikimimi.workers.locks import advisory_lock
from listener.runner import collect_pass
from nlp_models.analyzer import Analyzer, get_analyzer
from nlp_models.stage import analyse_pending, pending_posts
from responder.drafting import draft_pending
from responder.faq import place_new_questions
from responder.generation import Suggester, suggester
from responder.posters import build_posters
from responder.posting import LookupPolicy, Poster, post_approved
from responder.workflow import LEASE_SECONDS

log = logging.getLogger(__name__)

QUEUES = ("collect", "analyse", "faq", "draft", "post")
ANALYSIS_BATCH = 64  # posts per analysis message: a retry redoes at most this much
ANALYSIS_RACE_ATTEMPTS = 3  # a batch that keeps colliding with other workers is left to Dramatiq's retries
QUEUED_MARK_SECONDS = 3600  # a post queued for analysis is not queued again for this long (a lost one: after it)
COLLECT_TIME_LIMIT_MS = 30 * 60_000  # a backfill reads many pages; other tasks keep Dramatiq's ten minutes


@dataclass
class WorkerContext:
    """What a worker process's tasks work with: the settings, and the posters and posting timings to use."""

    settings: Settings
    posters: Callable[[], dict[str, Poster]] | None = None  # default: the configured platforms' posters
    analyzers: Callable[[], Analyzer] | None = None  # default: the configured analysis backend
    lease_seconds: float = LEASE_SECONDS
    lookup: LookupPolicy | None = None
    analysis_batch: int = ANALYSIS_BATCH
    analysis_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one model, many threads
    _posters: dict[str, Poster] | None = field(default=None, repr=False)
    _suggest: tuple[Suggester | None] | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        return get_engine(self.settings.database_url)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def analyzer(self) -> Analyzer:
        """The configured backend, loaded once per process (a GPU worker sets analysis_backend = "transformers")."""
        if self.analyzers is not None:
            return self.analyzers()
        return get_analyzer(self.settings.analysis_backend, **backend_options(self.settings))

    def suggester(self) -> Suggester | None:
        """The reply model's suggester (None without `reply_model`), loaded once per process, not once per task."""
        if self._suggest is None:
            self._suggest = (suggester(self.settings),)
        return self._suggest[0]

    def platform_posters(self) -> dict[str, Poster]:
        if self._posters is None:
            self._posters = self.posters() if self.posters else build_posters(self.settings)
        return self._posters


_context: WorkerContext | None = None
_actors: dict[str, dramatiq.Actor] = {}
_broker: Any = None


def configure(context: WorkerContext | None) -> None:
    """Give this process's tasks their context (a worker does this before it takes any message)."""
    global _context
    _context = context


def current() -> WorkerContext:
    if _context is None:
        raise ConfigError("this process runs no worker: start one with `kikimimi worker`")
    return _context


def send(name: str, *args: Any) -> None:
    """Queue the task `name` (declared on this process's broker) with `args`."""
    _actors[name].send(*args)


def chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


# ---------------------------------------------------------------- the tasks


def collect(source: str) -> dict:
    """Poll one source (every configured query), then queue the analysis of what is new."""
    ctx = current()
    with advisory_lock(ctx.engine, f"collect:{source}", wait=False) as mine:
        if not mine:  # the scheduler asked again while the last poll still runs: that poll is enough
            log.info("%s: another worker is collecting it now; this poll is skipped", source)
            return {"skipped": True}
        with ctx.session() as session:
            summary = collect_pass(session, ctx.settings, [source])
    queue_pending_analysis()
    return summary.as_dict()


def queue_pending_analysis() -> int:
    """Index new posts for search, then queue every post without an analysis that is not queued yet."""
    ctx = current()
    with advisory_lock(ctx.engine, "search-index"), ctx.session() as session:
        index_posts(session)
        pending = pending_posts(session)
    fresh = _not_queued_yet(pending)
    for batch in chunks(fresh, ctx.analysis_batch):
        send("analyse", batch)
    return len(fresh)


def _not_queued_yet(post_ids: list[int]) -> list[int]:
    """Mark `post_ids` as queued in Redis and return those that were not: polls while a backlog waits for the
    analysis workers do not queue it again. A mark expires, so a post whose analysis was lost is queued again."""
    if not post_ids:
        return []
    pipe = _broker.client.pipeline(transaction=False)
    for pid in post_ids:
        pipe.set(f"kikimimi:analysis-queued:{pid}", 1, nx=True, ex=QUEUED_MARK_SECONDS)
    return [pid for pid, fresh in zip(post_ids, pipe.execute(), strict=True) if fresh]


def analyse(post_ids: list[int]) -> int:
    """Analyse those of `post_ids` that have no analysis yet (one stored result per post); then FAQ placement."""
    ctx = current()
    analyzer = ctx.analyzer()
    done = 0
    for attempt in range(ANALYSIS_RACE_ATTEMPTS):
        with ctx.analysis_lock, ctx.session() as session:
            # a batch that lost a race keeps the other worker's analyses (`analyse_pending`); the rest go again
            done += analyse_pending(session, analyzer, post_ids=post_ids, batch_size=max(1, len(post_ids)))
            left = len(pending_posts(session, post_ids=post_ids))
        if not left:
            break
        log.info("analysis of %d posts raced another worker (try %d): %d left", len(post_ids), attempt + 1, left)
    else:
        raise RuntimeError(f"{left} of {len(post_ids)} posts still unanalysed after {ANALYSIS_RACE_ATTEMPTS} tries")
    send("place_faq", post_ids)
    return done


def place_faq(post_ids: list[int]) -> int:
    """New questions join the closest FAQ cluster, before drafting, so accepted answers reach the drafts."""
    ctx = current()
    with advisory_lock(ctx.engine, "faq"), ctx.session() as session:
        placed = place_new_questions(session)
    send("draft", post_ids)
    return placed


def draft(post_ids: list[int]) -> int:
    """Draft a reply for each of `post_ids` that needs one and has none."""
    ctx = current()
    settings = ctx.settings
    with advisory_lock(ctx.engine, "draft"), ctx.session() as session:
        return draft_pending(
            session,
            brands=settings.brands,
            templates_dir=settings.templates_dir,
            post_ids=post_ids,
            suggest=ctx.suggester(),
        )


def post() -> dict:
    """One posting pass: settle expired leases, post approved drafts (dry run unless live), look up unknowns."""
    ctx = current()
    with ctx.session() as session:
        report = post_approved(
            session,
            ctx.platform_posters(),
            live=ctx.settings.live_posting,
            lease_seconds=ctx.lease_seconds,
            lookup=ctx.lookup,
        )
    return {"posted": report.posted, "unknown": report.unknown, "in_flight": report.in_flight}


def retention() -> int:
    """Erase every brand's posts past its `retention_days`."""
    ctx = current()
    with advisory_lock(ctx.engine, "retention"), ctx.session() as session:
        return sum(r.counts["posts"] for r in erase_expired(session, ctx.settings, actor="retention"))


def alerts() -> int:
    """Raise what the detectors find (each alert once) and deliver what is due; one check at a time, so two
    workers never deliver one alert twice."""
    ctx = current()
    with advisory_lock(ctx.engine, "alerts"), ctx.session() as session:
        return check_alerts(session, ctx.settings).raised


# name: (function, queue, actor options)
TASKS: dict[str, tuple[Callable[..., Any], str, dict[str, Any]]] = {
    "collect": (collect, "collect", {"time_limit": COLLECT_TIME_LIMIT_MS}),
    "retention": (retention, "collect", {}),
    "alerts": (alerts, "collect", {}),
    "analyse": (analyse, "analyse", {}),
    "place_faq": (place_faq, "faq", {}),
    "draft": (draft, "draft", {}),
    "post": (post, "post", {}),
}


def declare(broker: Any) -> dict[str, dramatiq.Actor]:
    """Declare every task on `broker` (the worker and the scheduler must both do this); returns the actors."""
    global _broker
    _broker = broker
    dramatiq.set_broker(broker)
    _actors.clear()
    for name, (fn, queue, options) in TASKS.items():
        _actors[name] = dramatiq.actor(fn, actor_name=name, queue_name=queue, broker=broker, **options)
    return dict(_actors)
