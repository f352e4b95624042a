"""Post approved replies, exactly once.

A draft moves to `posting` (committed) *before* the platform is called. If the process dies mid-post, the
draft is found in `posting` on the next run and reconciled — the poster is asked whether the reply already
exists — before anything is retried, so a reply is never posted twice. Live posting needs the setting
`live_posting = true`; otherwise every approved reply is only logged (dry run) and stays approved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session, col, select

from kikimimi.errors import ConcurrentChange, KikimimiError, PlatformError
from kikimimi.models import DraftState, Post, ReplyDraft
from kikimimi.timeutil import utcnow
from responder.workflow import SYSTEM, transition

log = logging.getLogger(__name__)


class Poster(Protocol):
    """Posts replies on one platform, in the post's own thread and visibility."""

    platform: str

    def reply(self, post: Post, text: str, *, idempotency_key: str) -> str:
        """Post `text` as a reply to `post`; return the new reply's external id."""
        ...

    def find_reply(self, post: Post, *, idempotency_key: str) -> str | None:
        """The external id of our reply to `post` carrying `idempotency_key`, if it was posted after all."""
        ...


@dataclass
class PostingReport:
    posted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)
    would_post: list[int] = field(default_factory=list)  # dry run
    skipped: list[tuple[int, str]] = field(default_factory=list)


def idempotency_key(draft: ReplyDraft) -> str:
    return f"kikimimi-draft-{draft.id}"


def post_approved(
    session: Session,
    posters: dict[str, Poster],
    *,
    live: bool = False,
) -> PostingReport:
    """Reconcile drafts left in `posting`, then post every approved draft (or, in dry run, log it)."""
    report = PostingReport()
    _reconcile(session, posters, report)
    approved = session.exec(
        select(ReplyDraft, Post)
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .where(ReplyDraft.state == DraftState.approved)
        .order_by(col(ReplyDraft.id))
    ).all()
    for draft, post in approved:
        if not post.replyable:
            report.skipped.append((draft.id, f"not replyable via API: {post.replyable_reason}"))  # type: ignore[arg-type]
            continue
        if not live:
            log.info("dry run: would reply to %s %s: %r", post.platform, post.external_id, draft.text)
            report.would_post.append(draft.id)  # type: ignore[arg-type]
            continue
        poster = posters.get(post.platform)
        if poster is None:
            report.skipped.append((draft.id, f"no poster configured for {post.platform}"))  # type: ignore[arg-type]
            continue
        try:
            transition(session, draft, "start_posting", SYSTEM)
        except ConcurrentChange:
            session.rollback()
            report.skipped.append((draft.id, "taken by another worker"))  # type: ignore[arg-type]
            continue
        session.commit()  # from here on a crash leaves the draft in `posting`, to be reconciled
        try:
            external_id = poster.reply(post, draft.text, idempotency_key=idempotency_key(draft))
        except (PlatformError, KikimimiError, OSError) as exc:
            transition(session, draft, "mark_failed", SYSTEM, note=str(exc))
            session.commit()
            report.failed.append(draft.id)  # type: ignore[arg-type]
            log.error("posting draft %s failed: %s", draft.id, exc)
            continue
        _mark_posted(session, draft, external_id)
        report.posted.append(draft.id)  # type: ignore[arg-type]
    return report


def _reconcile(session: Session, posters: dict[str, Poster], report: PostingReport) -> None:
    stuck = session.exec(
        select(ReplyDraft, Post)
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .where(ReplyDraft.state == DraftState.posting)
    ).all()
    for draft, post in stuck:
        poster = posters.get(post.platform)
        if poster is None:
            log.warning("draft %s is stuck in posting and no %s poster can check it", draft.id, post.platform)
            continue
        try:
            found = poster.find_reply(post, idempotency_key=idempotency_key(draft))
        except (PlatformError, OSError) as exc:
            log.warning("could not check whether draft %s was posted (%s); leaving it in posting", draft.id, exc)
            continue
        if found:
            _mark_posted(session, draft, found, note="reconciled: the reply was already posted")
        else:
            transition(session, draft, "reconcile_unposted", SYSTEM, note="reconciled: not posted, will retry")
            session.commit()
        report.reconciled.append(draft.id)  # type: ignore[arg-type]


def _mark_posted(session: Session, draft: ReplyDraft, external_id: str, note: str | None = None) -> None:
    draft.posted_external_id, draft.posted_at, draft.error = external_id, utcnow(), None
    transition(session, draft, "mark_posted", SYSTEM, note=note)
    session.commit()
