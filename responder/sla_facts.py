"""The answers each post of our own brands that needed a reply got (its first brand reply and first posted draft,
and how many of each), looked up live or read from the summary the pipeline pass keeps (`ResponseFact`).

A service-level figure over a past period then reads one narrow row per post instead of looking up every post's
replies and drafts again on every page load. Rows exist for the posts created before `SummaryState.through`;
posts created since, and the posts the database triggers marked dirty (migration 0015), are looked up live, so a
figure is the same whether the summary is up to date, behind, or empty. The rows depend on one piece of
configuration, the automatic brand handles: they are fingerprinted, and a reader configured otherwise reads live.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from kikimimi.models import (
    Analysis,
    Author,
    Brand,
    DraftState,
    Post,
    ReplyDraft,
    ResponseDirty,
    ResponseFact,
    SummaryState,
    ours,
)
from kikimimi.settings import BrandConfig, Settings
from kikimimi.timeutil import utcnow
from responder import sla_hours, summaries

log = logging.getLogger(__name__)
NAME = "responses"
CHUNK = timedelta(days=7)  # a first build summarises a week per statement, committing between weeks
COLUMNS = (
    "post_id",
    "platform",
    "author_id",
    "created_at",
    "ingested_at",
    "deleted_at",
    "language",
    "sentiment",
    "brand",
    "brand_at",
    "brand_n",
    "draft_at",
    "draft_n",
)


def automated(brands: list[BrandConfig]) -> list[tuple[str, str]]:
    """(platform, lower-case handle) of every brand account whose replies are automatic, hence no response."""
    return sorted(
        {(p, h.lower().lstrip("@")) for b in brands for p, handles in b.automated_handles.items() for h in handles}
    )


def fingerprint(handles: list[tuple[str, str]]) -> str:
    return hashlib.sha1(json.dumps(handles).encode()).hexdigest()


def live(where: Any, handles: list[tuple[str, str]], reply_since: Any) -> Any:
    """The answers of the posts that needed a reply and meet `where`, looked up now (one row per post, `COLUMNS`).

    Each post looks up its own answers by index (brand replies by (platform, parent), drafts by post): the cost
    follows the posts selected, not every reply and draft ever stored. `reply_since`: the earliest reply counted.
    """
    reply, replier = aliased(Post), aliased(Author)
    brand_replies = (
        select(reply.created_at)
        .join(replier, col(replier.id) == col(reply.author_id))
        .where(reply.platform == Post.platform, reply.parent_external_id == Post.external_id, reply.is_brand_reply)
        .where(col(reply.created_at) >= reply_since)  # no answer comes before the post it answers
    )
    if handles:  # a bot's "thanks, we'll get back to you" is no response
        brand_replies = brand_replies.where(
            sa.tuple_(replier.platform, func.lower(replier.handle)).not_in(handles)  # bounded by the config
        )
    answered_at = sa.case(
        (col(ReplyDraft.state) == DraftState.posted.value, col(ReplyDraft.posted_at)),
        (col(ReplyDraft.state) == DraftState.replied_by_hand.value, col(ReplyDraft.hand_replied_at)),
    )
    drafts = select(ReplyDraft.id).where(
        col(ReplyDraft.post_id) == col(Post.id),
        col(ReplyDraft.state).in_([DraftState.posted.value, DraftState.replied_by_hand.value]),
    )
    return (
        select(
            col(Post.id).label("post_id"),
            col(Post.platform).label("platform"),
            col(Post.author_id).label("author_id"),
            col(Post.created_at).label("created_at"),
            col(Post.ingested_at).label("ingested_at"),
            col(Post.deleted_at).label("deleted_at"),
            col(Analysis.language).label("language"),
            col(Analysis.sentiment).label("sentiment"),
            col(Brand.name).label("brand"),
            brand_replies.with_only_columns(func.min(reply.created_at)).scalar_subquery().label("brand_at"),
            brand_replies.with_only_columns(func.count()).scalar_subquery().label("brand_n"),
            drafts.with_only_columns(func.min(answered_at)).scalar_subquery().label("draft_at"),
            drafts.with_only_columns(func.count()).scalar_subquery().label("draft_n"),
        )
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .outerjoin(Brand, col(Brand.id) == col(Post.brand_id))
        # walk the period by its index: needs_reply inside an expression keeps SQLite from walking instead every
        # post that ever needed a reply by the needs_reply index (PostgreSQL's planner needs no such hint)
        .where(func.coalesce(col(Analysis.needs_reply), False), ~col(Post.is_brand_reply), ours())
        .where(where)
    )


def answers(
    session: Session,
    settings: Settings,
    *,
    since: datetime,
    until: datetime,
    platforms: tuple[str, ...] | None = None,
    languages: tuple[str, ...] | None = None,
    sentiments: tuple[str, ...] | None = None,
    unanswered: bool = False,
) -> Any:
    """The answers of the posts created in [since, until) on these platforms, in these languages, of these
    sentiments (None: all): summary rows where they are current, live look-ups for the rest. A CTE with `COLUMNS`,
    computed once. `unanswered`: only the posts still waiting (no answer, not deleted), read by
    `ix_responsefact_unanswered`."""
    handles = automated(settings.brands)

    def filtered(stmt: Any, platform: Any, language: Any, sentiment: Any) -> Any:
        # the sentiment inside an expression: else SQLite walks every negative analysis by its index
        moods = func.coalesce(sentiment, "")
        for column, allowed in ((platform, platforms), (language, languages), (moods, sentiments)):
            if allowed is not None:
                stmt = stmt.where(column.in_(allowed))
        return stmt

    def looked_up(where: Any) -> Any:
        stmt = filtered(
            live(where, handles, since), col(Post.platform), col(Analysis.language), col(Analysis.sentiment)
        )
        if not unanswered:
            return stmt
        rows = stmt.subquery()
        return select(rows).where(*waiting(rows.c))

    in_period = (col(Post.created_at) >= since) & (col(Post.created_at) < until)
    current = summaries.state(session, NAME)
    if current is None or current.fingerprint != fingerprint(handles) or current.through <= since:
        return looked_up(in_period).cte("answers").prefix_with("MATERIALIZED")
    through = min(current.through, until)
    dirty = select(ResponseDirty.post_id)
    summarised = filtered(
        select(*[getattr(ResponseFact, c) for c in COLUMNS]).where(
            col(ResponseFact.created_at) >= since,
            col(ResponseFact.created_at) < through,
            col(ResponseFact.post_id).not_in(dirty),
        ),
        col(ResponseFact.platform),
        col(ResponseFact.language),
        col(ResponseFact.sentiment),
    )
    if unanswered:
        summarised = summarised.where(*waiting(ResponseFact.__table__.c))  # type: ignore[attr-defined]
    parts = [summarised]
    if session.exec(select(ResponseDirty.post_id).limit(1)).first() is not None:  # else no plan reads them
        parts.append(looked_up(in_period & (col(Post.created_at) < through) & col(Post.id).in_(dirty)))
    if until > through:
        parts.append(looked_up((col(Post.created_at) >= through) & (col(Post.created_at) < until)))
    return sa.union_all(*parts).cte("answers").prefix_with("MATERIALIZED")


def waiting(columns: Any) -> list[Any]:
    """The conditions of a post still waiting for its first answer: none, and not deleted (a post deleted unanswered
    cannot be answered). Written as the partial index `ix_responsefact_unanswered` is, so SQLite reads it."""
    return [columns.brand_at.is_(None), columns.draft_at.is_(None), columns.deleted_at.is_(None)]


def refresh(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Bring the summary up to `now`: recompute the rows of dirty posts and add the posts created since the last
    refresh, in bulk statements (a first build a week at a time); commits. Returns the rows written.

    The cost follows the new and changed posts, not the table. Changed configuration (the automatic handles)
    starts the summary over."""
    now = now or utcnow()
    session.commit()  # its own transactions: the lock below is then the first it takes
    handles = automated(settings.brands)
    mark = fingerprint(handles)
    current = summaries.state(session, NAME)
    if current is not None and current.fingerprint != mark:
        clear(session)
        current = None
    if current is not None:  # one step: the dirty posts and the ones created since
        lower = start = current.through
    else:  # a first build: every post, a week per statement
        lower, start = None, session.exec(select(func.min(Post.created_at))).one() or now
    written = 0
    while True:
        end = now if current is not None else min(start + CHUNK, now)
        written += _advance(session, handles, mark, lower, end)
        session.commit()
        if end >= now:
            return written
        start = lower = end


def _advance(session: Session, handles: list[tuple[str, str]], mark: str, start: datetime | None, end: Any) -> int:
    """Summarise the posts created in [start, end) and every dirty one created before `end`; `start` None: all."""
    summaries.lock(session, "responsedirty")
    dirty = select(ResponseDirty.post_id)
    created, posted = col(ResponseFact.created_at), col(Post.created_at)
    # each part by its own index (an OR of the two had PostgreSQL walk every post and every row)
    session.execute(sa.delete(ResponseFact).where(col(ResponseFact.post_id).in_(dirty)))
    session.execute(sa.delete(ResponseFact).where(created < end, *([created >= start] if start is not None else [])))
    if start is None:
        rows = live(posted < end, handles, posted)
    else:
        rows = sa.union_all(
            live((posted >= start) & (posted < end), handles, posted),
            live((posted < start) & col(Post.id).in_(dirty), handles, posted),
        )
    insert = sa.insert(ResponseFact).from_select(list(COLUMNS), rows)
    result = session.execute(insert.execution_options(preserve_rowcount=True))
    sla_hours.mark_dirty_posts(session)  # the hour summary recomputes their hours: the marks go now
    session.execute(sa.delete(ResponseDirty))
    summaries.save_state(session, NAME, end, mark)
    return max(int(result.rowcount or 0), 0)


def clear(session: Session) -> None:
    """Forget the summary: every figure is computed live until the next refresh rebuilds it."""
    sla_hours.mark_dirty_posts(session)
    session.execute(sa.delete(ResponseFact))
    session.execute(sa.delete(ResponseDirty))
    session.execute(sa.delete(SummaryState).where(col(SummaryState.name) == NAME))
    session.commit()


def rebuild(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Recompute the whole summary (the triggers keep it right; this is for a damaged or restored database)."""
    clear(session)
    written = refresh(session, settings, now)
    log.info("service-level summary rebuilt: %s posts", written)
    return written
