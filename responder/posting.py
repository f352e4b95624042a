"""Post approved replies, exactly once: under crashes, platform lag, lost answers and several workers.

One pass of `post_approved`:

1. **Expired leases.** A draft left in `posting` whose lease has run out (its worker died, or hung past the
   lease) goes back to `approved` if its worker provably never called the platform (no `send` committed), and
   to `unknown` otherwise. A draft whose lease is alive is never touched: its worker may be mid-call.
2. **Approved drafts.** Each is claimed with a lease (`start_posting`, an atomic compare-and-set: of two or three
   workers exactly one wins, the others skip it). Right before the platform call the worker reads the pause
   switch and commits `send`, which renews the lease. Then the call: an id back is `posted`; a clear refusal
   (4xx: locked thread, deleted post) is `failed` with the reason; a rate limit is `released` (not sent); any
   other answer — timeout, 5xx, connection reset, garbage — is `unknown`: it may have been posted.
3. **Unknown outcomes.** Each is looked up on the platform (by our account's reply to the post, and the
   idempotency key where the platform has one), with back-off, until the reply is found (`posted`) or a lookup
   made after the platform's lag window still shows nothing (`not_posted`, where a person may Retry). A draft
   whose outcome is unknown is never posted again by this module.

Live posting needs the setting `live_posting = true`; otherwise approved replies are only logged (dry run).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlmodel import Session, col, func, select

from kikimimi.errors import IllegalTransition, KikimimiError, PlatformError, RateLimited, TransientPlatformError
from kikimimi.models import DraftState, Post, ReplyDraft
from kikimimi.timeutil import utcnow
from responder.pause import is_posting_paused
from responder.workflow import LEASE_SECONDS, SYSTEM, transition

log = logging.getLogger(__name__)

DEFAULT_LOOKUP_LAG_SECONDS = 60.0  # how long a platform may take to show a new reply, when its poster does not say
LOOKUP_FIRST_DELAY_SECONDS = 1.0  # the first wait between two lookups of an unknown outcome ...
LOOKUP_MAX_DELAY_SECONDS = 15.0  # ... doubling, never longer than this
LOOKUP_MAX_ATTEMPTS = 12  # lookups per draft per pass; an outcome still open after them stays unknown
DRY_RUN_LISTED = 20  # approved drafts a dry-run pass reads and logs one by one (the rest are only counted)

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]
Failure = Literal["refused", "not_sent", "unknown"]


class Poster(Protocol):
    """Posts replies on one platform, in the post's own thread and visibility.

    A poster may set `lookup_lag_seconds`: how long after a reply is created `find_reply` may still miss it.
    """

    platform: str

    def reply(self, post: Post, text: str, *, idempotency_key: str) -> str:
        """Post `text` as a reply to `post`; return the new reply's external id."""
        ...

    def find_reply(self, post: Post, *, idempotency_key: str) -> str | None:
        """The external id of our reply to `post` carrying `idempotency_key`, if it was posted after all."""
        ...


@dataclass(frozen=True)
class LookupPolicy:
    """How an unknown outcome is looked up: until found, or until a lookup after the lag window finds nothing."""

    lag_seconds: float | None = None  # None: the poster's own `lookup_lag_seconds`
    first_delay: float = LOOKUP_FIRST_DELAY_SECONDS
    max_delay: float = LOOKUP_MAX_DELAY_SECONDS
    max_attempts: int = LOOKUP_MAX_ATTEMPTS

    def lag_for(self, poster: Poster) -> float:
        if self.lag_seconds is not None:
            return self.lag_seconds
        return float(getattr(poster, "lookup_lag_seconds", DEFAULT_LOOKUP_LAG_SECONDS))

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2**attempt)


@dataclass
class PostingReport:
    posted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # the platform refused; the reason is on the draft
    unknown: list[int] = field(default_factory=list)  # became unknown in this pass (ambiguous answer, expired lease)
    reconciled: list[int] = field(default_factory=list)  # unknown outcomes a lookup settled in this pass
    reconciled_posted: list[int] = field(default_factory=list)  # ... found on the platform
    reconciled_not_posted: list[int] = field(default_factory=list)  # ... shown not posted: a person may Retry
    released: list[int] = field(default_factory=list)  # back to approved: the platform was not called
    held_unknown: list[int] = field(default_factory=list)  # still unknown after the pass: not posted again
    awaiting_retry: list[int] = field(default_factory=list)  # not_posted: waiting for a person's Retry
    in_flight: list[int] = field(default_factory=list)  # in posting under another worker's live lease
    would_post: list[int] = field(default_factory=list)  # dry run: the first DRY_RUN_LISTED of them
    would_post_total: int = 0  # dry run: every approved draft that live posting would send
    skipped: list[tuple[int, str]] = field(default_factory=list)
    paused: bool = False  # the pause switch stopped this pass


def deleted_reason(post: Post) -> str:
    """Why a post is not answered any more: it was deleted or made private on its platform."""
    when = f" ({post.deleted_at:%Y-%m-%d %H:%M} UTC)" if post.deleted_at else ""
    return f"the post was {post.deleted_reason or 'deleted'} on {post.platform}{when}"


def idempotency_key(draft: ReplyDraft) -> str:
    return f"kikimimi-draft-{draft.id}"


def default_worker_id() -> str:
    """Unique per process and pass: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def classify_failure(exc: BaseException) -> Failure:
    """What a failed platform call tells us: refused (nothing posted), not sent (rate limit) or unknown.

    Only a clear refusal is taken at its word. A timeout, a 5xx, a reset connection or anything we cannot read
    may come after the platform created the reply, so it is "unknown" and goes to a lookup, never to a retry.
    """
    if isinstance(exc, RateLimited):
        return "not_sent"
    if isinstance(exc, TransientPlatformError):
        return "unknown"
    if isinstance(exc, PlatformError):
        return "refused"
    return "unknown"


def post_approved(
    session: Session,
    posters: dict[str, Poster],
    *,
    live: bool = False,
    worker: str | None = None,
    clock: Clock = utcnow,
    sleep: Sleep = time.sleep,
    lookup: LookupPolicy | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> PostingReport:
    """Settle expired leases, post every approved draft (or, in dry run, log it), then look up unknown outcomes.

    Never raises on a lost race: a draft another worker took is skipped. `clock` and `sleep` are injectable.
    """
    worker = worker or default_worker_id()
    report = PostingReport()
    _expire_leases(session, report, clock())
    _post_approved_drafts(session, posters, report, live=live, worker=worker, clock=clock, lease_seconds=lease_seconds)
    reconcile_unknown(session, posters, report, clock=clock, sleep=sleep, policy=lookup or LookupPolicy())
    session.commit()
    report.held_unknown = _ids_in(session, DraftState.unknown)
    report.awaiting_retry = _ids_in(session, DraftState.not_posted)
    return report


def _ids_in(session: Session, state: DraftState) -> list[int]:
    return list(session.exec(select(ReplyDraft.id).where(ReplyDraft.state == state).order_by(col(ReplyDraft.id))))  # type: ignore[arg-type]


def _expire_leases(session: Session, report: PostingReport, now: datetime) -> None:
    posting = ReplyDraft.state == DraftState.posting
    alive = col(ReplyDraft.lease_expires_at) > now
    # the drafts whose lease is alive by their ids alone: a worker may be mid-call, nothing here touches them
    report.in_flight = list(session.exec(select(ReplyDraft.id).where(posting, alive).order_by(col(ReplyDraft.id))))  # type: ignore[arg-type]
    stuck = session.exec(
        select(ReplyDraft)
        .where(posting, col(ReplyDraft.lease_expires_at).is_(None) | ~alive)
        .order_by(col(ReplyDraft.id))
        .execution_options(populate_existing=True)
    ).all()
    for draft in stuck:
        unsent = draft.lease_owner is not None and draft.send_started_at is None
        owner = draft.lease_owner or "a worker without a lease"
        action, note = (
            ("lease_expired_unsent", f"the lease of {owner} ran out before it called the platform: posting again")
            if unsent
            else ("lease_expired", f"the lease of {owner} ran out after it called the platform: was it posted?")
        )
        try:
            transition(session, draft, action, SYSTEM, note=note, now=now)
        except IllegalTransition:
            session.rollback()  # renewed or settled meanwhile
            continue
        session.commit()
        log.warning("draft %s: %s", draft.id, note)
        (report.released if unsent else report.unknown).append(draft.id)  # type: ignore[arg-type]


def _post_approved_drafts(
    session: Session,
    posters: dict[str, Poster],
    report: PostingReport,
    *,
    live: bool,
    worker: str,
    clock: Clock,
    lease_seconds: float,
) -> None:
    stmt = (
        select(ReplyDraft, Post)
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .where(ReplyDraft.state == DraftState.approved)
        .order_by(col(ReplyDraft.id))
    )
    if not live:  # in a dry run approved drafts pile up: count them all, read and log only the first few
        # from two narrow indexes: the approved drafts' post ids, less the posts that cannot be answered (a partial
        # index). Looking up each approved draft's post read one page per post: at 1M posts ~18k, cold ~0.8 s
        unanswerable = select(Post.id).where(~col(Post.replyable) | col(Post.deleted_at).is_not(None))
        report.would_post_total = session.exec(
            select(func.count())
            .select_from(ReplyDraft)
            .where(ReplyDraft.state == DraftState.approved, col(ReplyDraft.post_id).not_in(unanswerable))
        ).one()
        stmt = stmt.limit(DRY_RUN_LISTED)
    approved = session.exec(stmt).all()
    rate_limited: set[str] = set()
    for draft, post in approved:
        draft_id: int = draft.id  # type: ignore[assignment]
        if not post.replyable:
            report.skipped.append((draft_id, f"not replyable via API: {post.replyable_reason}"))
            continue
        if post.deleted_at is not None:  # checked before the claim: a deleted post is never answered
            report.skipped.append((draft_id, f"never answered: {deleted_reason(post)}"))
            continue
        if not live:
            log.info("dry run: would reply to %s %s: %r", post.platform, post.external_id, draft.text)
            report.would_post.append(draft_id)
            continue
        poster = posters.get(post.platform)
        if poster is None:
            report.skipped.append((draft_id, f"no poster configured for {post.platform}"))
            continue
        if post.platform in rate_limited:
            report.skipped.append((draft_id, f"{post.platform} is rate limiting us: next pass"))
            continue
        if is_posting_paused(session):
            report.paused = True
            return
        try:
            transition(session, draft, "start_posting", SYSTEM, worker=worker, now=clock(), lease_seconds=lease_seconds)
        except IllegalTransition:  # ConcurrentChange included: another worker claimed it first
            session.rollback()
            report.skipped.append((draft_id, "taken by another worker"))
            continue
        session.commit()  # from here on a crash leaves the draft leased in `posting`, to be reconciled
        outcome = _send(session, draft, post, poster, report, worker=worker, clock=clock, lease_seconds=lease_seconds)
        if outcome == "paused":
            return
        if outcome == "rate_limited":
            rate_limited.add(post.platform)


def _send(
    session: Session,
    draft: ReplyDraft,
    post: Post,
    poster: Poster,
    report: PostingReport,
    *,
    worker: str,
    clock: Clock,
    lease_seconds: float,
) -> str:
    """Check the pause switch, renew the lease (`send`), call the platform, record what it said."""
    draft_id: int = draft.id  # type: ignore[assignment]
    if is_posting_paused(session):
        transition(session, draft, "release", SYSTEM, worker=worker, now=clock(), note="posting is paused")
        session.commit()
        report.released.append(draft_id)
        report.paused = True
        return "paused"
    try:
        transition(session, draft, "send", SYSTEM, worker=worker, now=clock(), lease_seconds=lease_seconds)
    except IllegalTransition as exc:
        session.rollback()
        report.skipped.append((draft_id, f"not sent: {exc}"))
        return "lost"
    session.commit()  # the platform call starts after this commit: a crash from here on is an unknown outcome
    try:
        external_id = poster.reply(post, draft.text, idempotency_key=idempotency_key(draft))
    except Exception as exc:  # noqa: BLE001 - every failure is classified; only a clear refusal is believed
        return _record_failure(session, draft, exc, report, worker=worker, clock=clock)
    _record_posted(session, draft, str(external_id), report, worker=worker, clock=clock)
    return "posted"


def _record_failure(
    session: Session, draft: ReplyDraft, exc: Exception, report: PostingReport, *, worker: str, clock: Clock
) -> str:
    draft_id: int = draft.id  # type: ignore[assignment]
    kind = classify_failure(exc)
    action, note, bucket = {
        "refused": ("mark_failed", f"the platform refused: {exc}", report.failed),
        "not_sent": ("release", f"not sent: {exc}", report.released),
        "unknown": ("mark_unknown", f"ambiguous answer ({type(exc).__name__}: {exc}): was it posted?", report.unknown),
    }[kind]
    try:
        transition(session, draft, action, SYSTEM, worker=worker, now=clock(), note=note)
    except IllegalTransition:
        session.rollback()  # our lease ran out and reconciliation took over: it will settle the draft
        log.error("draft %s: %s, but this worker no longer holds its lease", draft_id, note)
        return "lost"
    session.commit()
    bucket.append(draft_id)
    (log.warning if kind != "refused" else log.error)("draft %s: %s", draft_id, note)
    return "rate_limited" if kind == "not_sent" else kind


def _record_posted(
    session: Session, draft: ReplyDraft, external_id: str, report: PostingReport, *, worker: str, clock: Clock
) -> None:
    draft_id: int = draft.id  # type: ignore[assignment]
    try:
        transition(session, draft, "mark_posted", SYSTEM, worker=worker, now=clock(), external_id=external_id)
        session.commit()
        report.posted.append(draft_id)
        return
    except IllegalTransition:
        session.rollback()
    # The answer came after our lease ran out: the platform's word is the truth, whatever reconciliation guessed.
    fresh = session.get(ReplyDraft, draft_id, populate_existing=True)
    if fresh is not None and DraftState(fresh.state) in (DraftState.unknown, DraftState.not_posted):
        note = f"late answer to worker {worker}: the platform posted it as {external_id}"
        try:
            transition(session, fresh, "confirm_posted", SYSTEM, now=clock(), external_id=external_id, note=note)
            session.commit()
            report.posted.append(draft_id)
            return
        except IllegalTransition:
            session.rollback()
    log.error(
        "draft %s was posted as %s after this worker lost its lease; it is now %s",
        draft_id,
        external_id,
        fresh.state if fresh else "gone",
    )


def reconcile_unknown(
    session: Session,
    posters: dict[str, Poster],
    report: PostingReport | None = None,
    *,
    clock: Clock = utcnow,
    sleep: Sleep = time.sleep,
    policy: LookupPolicy | None = None,
) -> PostingReport:
    """Look up every draft whose outcome is unknown; settle it as posted, or as not posted after the lag window."""
    report = report if report is not None else PostingReport()
    policy = policy or LookupPolicy()
    unknown = (
        select(ReplyDraft, Post)
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .where(ReplyDraft.state == DraftState.unknown)
    )
    # where no poster can look them up (a dry run, a platform without credentials) they wait: one line per
    # platform each pass, not one per draft, and no draft read
    waiting = unknown.with_only_columns(Post.platform, func.count()).where(col(Post.platform).not_in(sorted(posters)))
    for platform, count in session.exec(waiting.group_by(Post.platform)).all():  # type: ignore[call-overload]
        log.warning("%d draft(s) on %s: outcome unknown, and no %s poster can look them up", count, platform, platform)
    if not posters:
        return report
    rows = session.exec(
        unknown.where(col(Post.platform).in_(sorted(posters)))
        .order_by(col(ReplyDraft.id))
        .execution_options(populate_existing=True)
    ).all()
    for draft, post in rows:
        _settle(session, draft, post, posters[post.platform], report, clock=clock, sleep=sleep, policy=policy)
    return report


def _settle(
    session: Session,
    draft: ReplyDraft,
    post: Post,
    poster: Poster,
    report: PostingReport,
    *,
    clock: Clock,
    sleep: Sleep,
    policy: LookupPolicy,
) -> None:
    draft_id: int = draft.id  # type: ignore[assignment]
    lag = policy.lag_for(poster)
    deadline = (draft.unknown_since or clock()) + timedelta(seconds=lag)
    key = idempotency_key(draft)
    for attempt in range(policy.max_attempts):
        started = clock()
        try:
            found = poster.find_reply(post, idempotency_key=key)
        except (KikimimiError, OSError) as exc:
            log.warning("draft %s: could not look it up (%s); its outcome stays unknown", draft_id, exc)
            return
        if found:
            note = f"lookup {attempt + 1} found the reply: it was posted"
            if _settle_as(session, draft, "confirm_posted", note, clock, external_id=str(found)):
                report.reconciled.append(draft_id)
                report.reconciled_posted.append(draft_id)
            return
        if started >= deadline:
            note = f"no reply after the {lag:g}s lag window ({attempt + 1} lookups): not posted, Retry is safe"
            if _settle_as(session, draft, "confirm_not_posted", note, clock):
                report.reconciled.append(draft_id)
                report.reconciled_not_posted.append(draft_id)
            return
        if attempt + 1 < policy.max_attempts:
            session.commit()  # hold no transaction open while waiting out the lag
            sleep(max(0.0, min(policy.delay(attempt), (deadline - clock()).total_seconds())))
    log.info("draft %s: still inside the platform's lag window after %d lookups", draft_id, policy.max_attempts)


def _settle_as(
    session: Session, draft: ReplyDraft, action: str, note: str, clock: Clock, external_id: str | None = None
) -> bool:
    try:
        transition(session, draft, action, SYSTEM, note=note, now=clock(), external_id=external_id)
    except IllegalTransition:
        session.rollback()  # another worker settled it first
        return False
    session.commit()
    return True
