"""Drive one collector over one query: page by page, each page stored atomically with its cursor.

A crash between fetch and save loses nothing (the cursor did not move, so the page is fetched again)
and duplicates nothing (the unique (platform, external_id) constraint absorbs the second copy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from kikimimi.errors import ConfigError, MalformedPayload, PlatformError, RateLimited
from kikimimi.models import Brand, CollectorRun, Cursor, ListeningQuery, PostCreate
from kikimimi.settings import BrandConfig, QueryConfig, Settings
from kikimimi.timeutil import parse_timestamp, utcnow
from listener.base import Collector
from listener.registry import build_collector
from listener.store import upsert_posts

log = logging.getLogger(__name__)


@dataclass
class Target:
    """The brand and query a collection run is for, with their database ids."""

    brand_id: int
    query_id: int
    query: QueryConfig


def ensure_target(session: Session, brand: BrandConfig, query: QueryConfig) -> Target:
    """Create or refresh the Brand and ListeningQuery rows for a configured query."""
    row = session.exec(select(Brand).where(Brand.name == brand.name)).first()
    if row is None:
        row = Brand(name=brand.name)
    row.handles = {p: list(h) for p, h in brand.handles.items()}
    session.add(row)
    session.flush()
    q = session.exec(
        select(ListeningQuery).where(ListeningQuery.brand_id == row.id, ListeningQuery.name == query.name)
    ).first()
    if q is None:
        q = ListeningQuery(brand_id=row.id, name=query.name, key=query.key)
    q.key, q.definition, q.updated_at = query.key, query.model_dump(), utcnow()
    session.add(q)
    session.flush()
    assert row.id is not None and q.id is not None
    return Target(row.id, q.id, query)


def collect(
    session: Session,
    collector: Collector,
    target: Target,
    *,
    backfill: bool = False,
    on_page: Callable[[CollectorRun], None] | None = None,
) -> CollectorRun:
    """Poll `collector` for `target`, committing after every page; return the finished run record."""
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
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
        return run
    try:
        for page in collector.pages(target.query, start, backfill=backfill):
            posts = _normalise_page(collector, page.items, run)
            stored = upsert_posts(session, posts, brand_id=target.brand_id, query_id=target.query_id)
            run.requests += page.requests
            run.items_seen += len(page.items)
            run.new_posts += stored.new
            run.duplicates += stored.duplicates
            if page.cursor is not None and not backfill:
                cursor.position = page.cursor
            cursor.state = {**cursor.state, **page.state}
            cursor.updated_at = utcnow()
            session.add_all([cursor, run])
            session.commit()  # the page, the cursor and the counters land together
            if on_page:
                on_page(run)
        run.status = "partial" if run.errors else "ok"
    except RateLimited as exc:
        session.rollback()
        run.status, run.error_message = "rate_limited", str(exc)
        if exc.reset_at:
            cursor.state = {**cursor.state, "rate_limited_until": exc.reset_at.isoformat()}
            session.add(cursor)
        log.warning("%s: %s; the next poll resumes after the reset", collector.name, exc)
    except PlatformError as exc:
        session.rollback()
        run.status, run.error_message = "failed", str(exc)
        run.errors += 1
        log.error("%s: %s", collector.name, exc)
    run.finished_at = utcnow()
    session.add(run)
    session.commit()
    return run


def _normalise_page(collector: Collector, items: list[dict], run: CollectorRun) -> list[PostCreate]:
    posts = []
    for item in items:
        try:
            posts.append(collector.normalise(item))
        except MalformedPayload as exc:
            run.errors += 1
            log.warning("skipped a malformed item: %s", exc)
    return posts


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
                    "error_message": r.error_message,
                }
                for r in self.runs
            ],
            "skipped": self.skipped,
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
                run = collect(session, collector, target, backfill=backfill, on_page=on_page)
            except ConfigError as exc:  # e.g. a query over the platform's length limit
                session.rollback()
                summary.skipped[f"{platform}:{query.name}"] = str(exc)
                continue
            if on_progress is not None:
                on_progress(label, run, True)
            summary.runs.append(run)
    return summary
