"""Drive one collector over one query: page by page, each page stored atomically with its cursor.

A crash between fetch and save loses nothing (the cursor did not move, so the page is fetched again)
and duplicates nothing (the unique (platform, external_id) constraint absorbs the second copy).
One bad item costs only itself: it is quarantined (`listener.quarantine`) and the rest of its page stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, select

from kikimimi import budget
from kikimimi.db import insert_for
from kikimimi.errors import ERROR_MESSAGE_LIMIT, ConfigError, MalformedPayload, PlatformError, RateLimited
from kikimimi.models import Brand, CollectorRun, Cursor, ListeningQuery, PostCreate, RunStatus
from kikimimi.settings import BrandConfig, QueryConfig, Settings
from kikimimi.text import short
from kikimimi.timeutil import parse_timestamp, utcnow
from listener.base import Collector, Page
from listener.quarantine import quarantine_item
from listener.registry import build_collector
from listener.store import storable_post, store_page

log = logging.getLogger(__name__)


@dataclass
class Target:
    """The brand and query a collection run is for, with their database ids."""

    brand_id: int
    query_id: int
    query: QueryConfig


def ensure_target(session: Session, brand: BrandConfig, query: QueryConfig) -> Target:
    """Create or refresh the Brand and ListeningQuery rows for a configured query.

    Race-free: INSERT ... ON CONFLICT DO NOTHING, then read the row, so processes starting together on one
    database all get the same rows and none fails on a duplicate name.
    """
    session.execute(insert_for(session, Brand).values(name=brand.name, handles={}).on_conflict_do_nothing())
    row = session.exec(select(Brand).where(Brand.name == brand.name)).one()
    row.handles = {p: list(h) for p, h in brand.handles.items()}
    session.add(row)
    session.flush()
    session.execute(
        insert_for(session, ListeningQuery)
        .values(brand_id=row.id, name=query.name, key=query.key, definition={}, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    q = session.exec(
        select(ListeningQuery).where(ListeningQuery.brand_id == row.id, ListeningQuery.name == query.name)
    ).one()
    q.key, q.definition, q.updated_at = query.key, query.model_dump(), utcnow()
    q.competitor = query.competitor
    session.add(q)
    session.flush()
    assert row.id is not None and q.id is not None
    return Target(row.id, q.id, query)


INTERRUPTED = "interrupted: the process stopped before this run finished"


def collect(
    session: Session,
    collector: Collector,
    target: Target,
    *,
    backfill: bool = False,
    on_page: Callable[[CollectorRun], None] | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> CollectorRun:
    """Poll `collector` for `target`, committing after every page; return the finished run record.

    Every item of a page is stored or quarantined, each page commits with its cursor, and the run always ends
    `ok`, `partial`, `failed` or `rate_limited` with a short error: whatever the platform or an item does.
    `now` fixes the clock that creation times are checked against (default: `utcnow()` at each page).
    With `settings`, the platform's monthly read budget applies: a spent budget skips the run (`over_budget`),
    and a run stops after the page that spends it; every page's items are counted with the page itself.
    """
    close_stale_runs(session, collector.name, target.query.key)
    run = CollectorRun(
        platform=collector.name,
        query_key=target.query.key,
        query_name=target.query.name,
        mode="backfill" if backfill else "poll",
    )
    session.add(run)
    session.commit()
    cursor = _cursor(session, collector.name, target.query.key)
    start = None if backfill else cursor.position
    limited_until = _rate_limited_until(cursor)
    if limited_until is not None:  # the platform said when it will accept again: do not spend a request before
        run.status, run.error_message = "rate_limited", f"skipped: rate limited until {limited_until.isoformat()}"
        log.info("%s: %s", collector.name, run.error_message)
        return _finish(session, run)
    left = budget.remaining(session, settings, collector.name) if settings is not None else None
    if left == 0:
        run.status, run.error_message = RunStatus.over_budget.value, _spent(session, settings, collector.name)
        log.warning("%s", run.error_message)
        return _finish(session, run)
    pages = 0
    full_page = getattr(collector, "page_size", None)
    try:
        _fit_page_size(collector, full_page, left)
        for page in collector.pages(target.query, start, backfill=backfill):
            _store(session, collector, target, page, run, now)
            read = budget.add_reads(session, collector.name, len(page.items))
            if page.cursor is not None and not backfill:
                cursor.position = page.cursor  # every item of the page is now stored or quarantined
            cursor.state = {**cursor.state, **page.state}
            cursor.updated_at = utcnow()
            session.add_all([cursor, run])
            session.commit()  # the page, its quarantined items, the cursor and the counters land together
            pages += 1
            if on_page:
                on_page(run)
            if left is not None:
                left = max(0, left - len(page.items))
                if left == 0:  # the next page would read past the budget: stop here, resume next month
                    run.status, run.error_message = (
                        RunStatus.over_budget.value,
                        _spent(session, settings, collector.name),
                    )
                    log.warning("%s (after %d items this month)", run.error_message, read)
                    return _finish(session, run)
                _fit_page_size(collector, full_page, left)
        run.status = "partial" if run.errors else "ok"
    except RateLimited as exc:
        session.rollback()
        run.status, run.error_message = "rate_limited", short(exc, ERROR_MESSAGE_LIMIT)
        if exc.reset_at:
            cursor.state = {**cursor.state, "rate_limited_until": exc.reset_at.isoformat()}
            session.add(cursor)
        log.warning("%s: %s; the next poll resumes after the reset", collector.name, run.error_message)
    except PlatformError as exc:
        session.rollback()
        _failed(run, pages, str(exc))
        log.error("%s: %s", collector.name, run.error_message)
    except Exception as exc:  # noqa: BLE001 - one source's bug must not stop the others; the log keeps the trace
        session.rollback()
        _failed(run, pages, f"unexpected {type(exc).__name__}: {exc}")
        log.exception("%s: collection stopped by an unexpected error", collector.name)
    finally:
        if full_page is not None:
            collector.page_size = full_page  # type: ignore[attr-defined]
    return _finish(session, run)


def _fit_page_size(collector: Collector, full_page: int | None, left: int | None) -> None:
    """Ask for no more items per page than the budget has left (X takes at least 10 per page)."""
    if full_page is None or left is None:
        return
    collector.page_size = max(getattr(collector, "min_page_size", 1), min(full_page, left))  # type: ignore[attr-defined]


def _spent(session: Session, settings: Settings | None, platform: str) -> str:
    state = next(s for s in budget.budget_states(session, settings) if s.platform == platform)  # type: ignore[arg-type]
    return budget.spent_message(state)


def _failed(run: CollectorRun, pages: int, message: str) -> None:
    """A run that stored pages before the platform failed is partial (its cursor moved); otherwise failed."""
    run.status = "partial" if pages else "failed"
    run.error_message = short(message, ERROR_MESSAGE_LIMIT)
    run.errors += 1


def _finish(session: Session, run: CollectorRun) -> CollectorRun:
    # Another process that started polling the same query meanwhile closed this run as interrupted: the run's own
    # result is the truth, so its error (none, or its own) is written over that note.
    flag_modified(run, "error_message")
    run.finished_at = utcnow()
    session.add(run)
    session.commit()
    return run


def _store(
    session: Session, collector: Collector, target: Target, page: Page, run: CollectorRun, now: datetime | None
) -> None:
    """Normalise each item, store the good ones (savepoints), quarantine the rest; counters on `run`."""
    checked_against = now or utcnow()
    posts: list[PostCreate] = []
    origins: list[Any] = []
    for item in page.items:
        try:
            post = storable_post(collector.normalise(item), now=checked_against)
        except MalformedPayload as exc:
            _quarantine(session, collector, target, run, item, exc)
        except Exception as exc:  # noqa: BLE001 - a normaliser bug costs one item, not the page
            log.warning("%s: an item broke the normaliser", collector.name, exc_info=True)
            _quarantine(session, collector, target, run, item, exc)
        else:
            posts.append(post)
            origins.append(item)
    stored = store_page(session, posts, brand_id=target.brand_id, query_id=target.query_id)
    for index, error in stored.refused.items():
        _quarantine(session, collector, target, run, origins[index], error, posts[index].external_id)
    run.requests += page.requests
    run.items_seen += len(page.items)
    run.new_posts += stored.new
    run.duplicates += stored.duplicates


def _quarantine(
    session: Session,
    collector: Collector,
    target: Target,
    run: CollectorRun,
    item: Any,
    error: str | BaseException,
    external_id: str | None = None,
) -> None:
    row = quarantine_item(
        session,
        platform=collector.name,
        item=item,
        error=error,
        query_key=target.query.key,
        run_id=run.id,
        external_id=external_id or _item_id(item),
    )
    run.errors += 1
    run.quarantined += 1
    log.warning("%s: quarantined an item: %s", collector.name, row.error)


def _item_id(item: Any) -> str | None:
    """The item's id where one is plainly readable, for the quarantine listing."""
    if not isinstance(item, dict):
        return None
    for inner in (item, item.get("tweet"), item.get("data"), item.get("payload")):
        if isinstance(inner, dict):
            value = inner.get("id") or inner.get("uri") or inner.get("name")
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return None


def close_stale_runs(session: Session, platform: str, query_key: str) -> int:
    """Runs of this (platform, query) still `running` are closed as failed: cut off by a crash or kill -9, or
    being polled by another process right now (which records its own result when it finishes, see `_finish`)."""
    stale = session.exec(
        select(CollectorRun).where(
            CollectorRun.platform == platform,
            CollectorRun.query_key == query_key,
            CollectorRun.status == RunStatus.running.value,
        )
    ).all()
    for run in stale:
        run.status = RunStatus.failed.value
        run.error_message = INTERRUPTED
        run.finished_at = run.finished_at or utcnow()
        session.add(run)
    if stale:
        session.commit()
        log.warning(
            "%s %s: %d earlier run(s) still marked running (%s) closed as failed: their process stopped before "
            "they finished, or another process is polling this query now and will record its own result",
            platform,
            query_key,
            len(stale),
            ", ".join(f"#{r.id} started {r.started_at:%Y-%m-%d %H:%M:%S} UTC" for r in stale),
        )
    return len(stale)


def _rate_limited_until(cursor: Cursor) -> datetime | None:
    """The recorded rate-limit reset, if it is still in the future."""
    value = (cursor.state or {}).get("rate_limited_until")
    try:
        until = parse_timestamp(value) if value else None
    except ValueError:
        return None
    return until if until is not None and until > utcnow() else None


def _cursor(session: Session, platform: str, key: str) -> Cursor:
    cursor = session.exec(select(Cursor).where(Cursor.platform == platform, Cursor.query_key == key)).first()
    if cursor is None:
        cursor = Cursor(platform=platform, query_key=key)
        session.add(cursor)
        session.commit()
    return cursor


@dataclass
class CollectSummary:
    """What one `collect` pass did: a run record per (platform, query), and platforms that could not start."""

    runs: list[CollectorRun] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    budgets: list[dict] = field(default_factory=list)  # this month's reads per platform (`kikimimi.budget`)

    def as_dict(self) -> dict:
        return {
            "runs": [
                {
                    "platform": r.platform,
                    "query": r.query_name,
                    "mode": r.mode,
                    "status": r.status,
                    "requests": r.requests,
                    "items_seen": r.items_seen,
                    "new_posts": r.new_posts,
                    "duplicates": r.duplicates,
                    "errors": r.errors,
                    "quarantined": r.quarantined,
                    "error_message": r.error_message,
                }
                for r in self.runs
            ],
            "skipped": self.skipped,
            "read_budget": self.budgets,
        }


def collect_pass(
    session: Session,
    settings: Settings,
    platforms: list[str],
    *,
    query_name: str | None = None,
    backfill: bool = False,
    on_progress: Callable[[str, CollectorRun, bool], None] | None = None,
) -> CollectSummary:
    """Run every selected platform's collector over every (or the named) configured query, once.

    A platform that cannot start (a missing credential) is reported in `skipped` and the others run;
    `on_progress(label, run, finished)` is called after every page and once at the end of each query.
    """
    summary = CollectSummary()
    targets = [(b, q) for b in settings.brands for q in b.queries if query_name in (None, q.name)]
    if query_name and not targets:
        known = ", ".join(sorted({q.name for b in settings.brands for q in b.queries})) or "none configured"
        raise ConfigError(f"no query named {query_name!r} (known: {known})")
    for platform in platforms:
        try:
            collector = build_collector(platform, settings)
        except ConfigError as exc:  # one platform's missing credential must not stop the others
            summary.skipped[platform] = str(exc)
            log.info("%s", exc)
            continue
        except Exception as exc:  # noqa: BLE001 - a client that cannot be built stops only its platform
            summary.skipped[platform] = short(f"{platform}: could not start: {type(exc).__name__}: {exc}")
            log.exception("%s: could not build the collector", platform)
            continue
        for brand, query in targets:
            if platform != "sample" and platform not in query.platforms:
                continue
            target = ensure_target(session, brand, query)
            session.commit()
            label = f"{platform} · {query.name}"

            def on_page(run: CollectorRun, label: str = label) -> None:
                if on_progress is not None:
                    on_progress(label, run, False)

            try:
                run = collect(session, collector, target, backfill=backfill, on_page=on_page, settings=settings)
            except ConfigError as exc:  # e.g. a query over the platform's length limit
                session.rollback()
                summary.skipped[f"{platform}:{query.name}"] = str(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. the database refused the run record itself
                session.rollback()
                summary.skipped[f"{platform}:{query.name}"] = short(f"{type(exc).__name__}: {exc}")
                log.exception("%s: collection of %r failed", platform, query.name)
                continue
            if on_progress is not None:
                on_progress(label, run, True)
            summary.runs.append(run)
    summary.budgets = [s.as_dict() for s in budget.budget_states(session, settings)]
    return summary
