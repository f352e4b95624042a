"""Deletions: re-look-up recently stored posts and mark those deleted or made private on their platform.

X's and Bluesky's terms require honouring deletions. Each platform is asked the cheapest way it offers, in
batches: X `GET /2/tweets?ids=` (100 ids; a deleted tweet comes back as a "Not Found Error", a protected one as
an "Authorization Error"), Reddit `/api/info` (100 fullnames; `[deleted]` / `[removed]`), Bluesky
`app.bsky.feed.getPosts` (25 URIs; a deleted post is simply absent), Mastodon one status at a time (404). A
marked post (`Post.deleted_at`, `deleted_reason`) is hidden wherever posts are shown and never answered.

The pass is bounded: posts created in the last `DELETION_WINDOW_DAYS`, the least recently checked first, at most
`MAX_CHECKS` per platform; ids the platform reads are counted against the read budget (X bills them).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session, col, select

from kikimimi import budget
from kikimimi.errors import ERROR_MESSAGE_LIMIT, ConfigError, PlatformError
from kikimimi.models import Post
from kikimimi.settings import Settings
from kikimimi.text import short
from kikimimi.timeutil import utcnow
from listener.registry import build_collector

log = logging.getLogger(__name__)

DELETION_WINDOW_DAYS = 30  # posts created this recently are re-checked
MAX_CHECKS = {"x": 500, "reddit": 1000, "bluesky": 1000, "mastodon": 100}  # per platform per pass


class DeletionChecker(Protocol):
    """What a collector offers for deletions: how many ids one request takes, and which of them are gone."""

    name: str
    deletion_batch_size: int

    def gone(self, external_ids: list[str]) -> dict[str, str]:
        """external id → "deleted" | "made private" | "removed" for the ids that are no longer public."""
        ...


@dataclass
class DeletionRun:
    platform: str
    checked: int = 0
    deleted: int = 0
    requests: int = 0
    status: str = "ok"  # ok | failed | over_budget
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def mark_deleted(session: Session, post: Post, reason: str, *, now: datetime | None = None) -> None:
    """Mark `post` as deleted or made private on its platform (not committed)."""
    post.deleted_at = now or utcnow()
    post.deleted_reason = short(reason, 200)
    session.add(post)


def check_deletions(
    session: Session, checker: DeletionChecker, settings: Settings, *, now: datetime | None = None
) -> DeletionRun:
    """Re-look-up `checker`'s platform's recent posts in batches, marking the gone ones; one commit per batch."""
    now = now or utcnow()
    platform = checker.name
    run = DeletionRun(platform)
    posts = list(
        session.exec(
            select(Post)
            .where(Post.platform == platform, col(Post.deleted_at).is_(None))
            .where(col(Post.created_at) >= now - timedelta(days=DELETION_WINDOW_DAYS))
            .order_by(col(Post.deletion_checked_at).is_not(None), col(Post.deletion_checked_at), col(Post.id))
            .limit(MAX_CHECKS.get(platform, 100))
        )
    )
    size = max(1, checker.deletion_batch_size)
    for start in range(0, len(posts), size):
        batch = posts[start : start + size]
        left = budget.remaining(session, settings, platform, now=now)
        if left is not None and left < len(batch):
            batch = batch[:left]
            if not batch:
                run.status = "over_budget"
                run.error = f"{platform}: the read budget for {budget.period_of(now)} is used up"
                break
        try:
            gone = checker.gone([p.external_id for p in batch])
        except PlatformError as exc:
            session.rollback()
            run.status, run.error = "failed", short(exc, ERROR_MESSAGE_LIMIT)
            log.error("%s: deletion check stopped: %s", platform, run.error)
            break
        attempts = getattr(checker, "attempts", None)
        run.requests += attempts.take() if attempts is not None else 1
        for post in batch:
            post.deletion_checked_at = now
            session.add(post)
            reason = gone.get(post.external_id)
            if reason:
                mark_deleted(session, post, reason, now=now)
                run.deleted += 1
        budget.add_reads(session, platform, len(batch), now=now)
        run.checked += len(batch)
        session.commit()
    if run.deleted:
        log.info("%s: %d of %d checked posts were deleted or made private", platform, run.deleted, run.checked)
    return run


def deletion_pass(
    session: Session, settings: Settings, platforms: list[str], *, checkers: dict[str, Any] | None = None
) -> tuple[list[DeletionRun], dict[str, str]]:
    """`check_deletions` for every platform given (collectors built from the environment unless `checkers`
    are injected); returns the runs, and the platforms that could not start with why."""
    runs, skipped = [], {}
    for platform in platforms:
        if platform == "sample":
            continue
        try:
            checker = (checkers or {}).get(platform) or build_collector(platform, settings)
        except ConfigError as exc:
            skipped[platform] = str(exc)
            continue
        if not hasattr(checker, "gone"):
            skipped[platform] = f"{platform}: no deletion check"
            continue
        runs.append(check_deletions(session, checker, settings))
    return runs, skipped
