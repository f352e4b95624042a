"""The analysis stage: read posts without a current analysis from the database, write one per post."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import false, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kikimimi.models import Analysis, Author, Brand, Post, visible
from kikimimi.timeutil import utcnow
from nlp_models.addressing import addresses_brand
from nlp_models.analyzer import Analyzer
from nlp_models.priority import priority_score
from nlp_models.spam import is_spam
from nlp_models.types import TextAnalysis

log = logging.getLogger(__name__)
# Intents that ask the brand to act even when no question is asked.
_ACTION_INTENTS = {"order_status", "returns_refunds", "billing_account", "technical_issue", "complaint"}


def needs_reply(analysis: TextAnalysis, *, spam: bool, by_brand: bool) -> bool:
    """A customer post that asks something, reports a problem, or is negative deserves a reply."""
    if spam or by_brand:
        return False
    return analysis.is_question or analysis.intent in _ACTION_INTENTS or analysis.sentiment == "negative"


def brand_handles(session: Session) -> dict[int | None, dict[str, set[str]]]:
    """brand id -> platform -> its accounts (lower-case, no @); key None: every brand's, for unassigned posts."""
    out: dict[int | None, dict[str, set[str]]] = {None: {}}
    for brand in session.exec(select(Brand)):
        own = {p: {h.lower().lstrip("@") for h in names} for p, names in (brand.handles or {}).items()}
        out[brand.id] = own
        for platform, names in own.items():
            out[None].setdefault(platform, set()).update(names)
    return out


def addressed_flags(session: Session, posts: list[Post], handles: dict[int | None, dict[str, set[str]]]) -> list[bool]:
    """Per post: does it address the brand (mention, quote, private message, reply in a brand's thread)?"""
    wanted = {(p.platform, ref) for p in posts for ref in (p.parent_external_id, p.thread_id) if ref}
    by_brand: set[tuple[str, str]] = set()
    if wanted:
        rows = session.exec(
            select(Post.platform, Post.external_id)
            .join(Author, col(Author.id) == col(Post.author_id))
            # both keys of the (platform, external_id) index, so each reference is a lookup, not a walk of the posts
            .where(col(Post.platform).in_(sorted({platform for platform, _ in wanted})))
            .where(col(Post.external_id).in_(sorted({ref for _, ref in wanted})))
            .where(col(Author.is_brand))
        )
        by_brand = {(platform, ext) for platform, ext in rows if (platform, ext) in wanted}
    return [
        addresses_brand(
            text=p.text,
            handles=handles.get(p.brand_id, handles[None]).get(p.platform, set()),
            replyable_reason=p.replyable_reason,
            visibility=p.visibility,
            parent_by_brand=(p.platform, p.parent_external_id or "") in by_brand,
            thread_by_brand=p.thread_id != p.external_id and (p.platform, p.thread_id or "") in by_brand,
        )
        for p in posts
    ]


def _settle_analysed(session: Session) -> None:
    """Posts given an analysis some other way (an import, a fixture) leave the index of unanalysed posts."""
    has_analysis = select(Analysis.id).where(col(Analysis.post_id) == col(Post.id)).exists()
    session.execute(
        update(Post)
        .where(col(Post.analysed) == false(), has_analysis)
        .values(analysed=True)
        .execution_options(synchronize_session=False)
    )


def pending_posts(
    session: Session, analyzer: Analyzer | None = None, *, redo: bool = False, post_ids: list[int] | None = None
) -> list[int]:
    """Ids of posts with no analysis, or (with `redo` and the analyzer) with one made by other model versions.

    `post_ids` limits it to those posts (a worker's batch: one already analysed elsewhere is not pending)."""
    among = [col(Post.id).in_(post_ids)] if post_ids is not None else []
    if not redo or analyzer is None:
        _settle_analysed(session)
        stmt = (
            select(Post.id)
            .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
            # `Post.analysed` narrows the search to the partial index of posts without one; the join decides
            .where(col(Post.analysed) == false(), col(Analysis.id).is_(None), visible(), *among)
        )
        return [pid for pid in session.exec(stmt.order_by(Post.id)) if pid is not None]
    rows = session.exec(
        select(Post.id, Analysis.backend, Analysis.model_versions)
        .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(*among)
    )
    return [
        pid
        for pid, backend, versions in rows
        if pid is not None and (backend != analyzer.name or versions != analyzer.versions)
    ]


def analyse_pending(
    session: Session,
    analyzer: Analyzer,
    *,
    redo: bool = False,
    post_ids: list[int] | None = None,
    batch_size: int = 256,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Analyse every pending post (or the pending ones of `post_ids`) in batches, committing per batch; returns
    how many were analysed. A post has one stored analysis (`Analysis.post_id` is unique): a worker that races
    another one to the same post gets an IntegrityError at commit, and its retry finds the post analysed."""
    ids = pending_posts(session, analyzer, redo=redo, post_ids=post_ids)
    now = utcnow()
    handles = brand_handles(session)
    for start in range(0, len(ids), batch_size):
        batch_ids = ids[start : start + batch_size]
        rows = session.exec(
            select(Post, Author).join(Author, col(Author.id) == col(Post.author_id)).where(col(Post.id).in_(batch_ids))
        ).all()
        existing = {a.post_id: a for a in session.exec(select(Analysis).where(col(Analysis.post_id).in_(batch_ids)))}
        posts = [post for post, _ in rows]
        results = analyzer.analyse([p.text for p in posts], addresses_brand=addressed_flags(session, posts, handles))
        for (post, author), result in zip(rows, results, strict=True):
            spam = is_spam(post.text) and not post.not_spam  # a person's "not spam" outlives re-analysis
            age_hours = (now - post.created_at).total_seconds() / 3600
            row = existing.get(post.id) or Analysis(post_id=post.id, language="", sentiment="", intent="")
            row.language = result.language
            row.sentiment = result.sentiment
            row.sentiment_scores = result.sentiment_scores
            row.is_question = result.is_question
            row.question_score = result.question_score
            row.intent = result.intent
            row.intent_score = result.intent_score
            row.empathy_cues = [vars(c) for c in result.empathy_cues]
            row.is_spam = spam
            row.needs_reply = needs_reply(result, spam=spam, by_brand=author.is_brand)
            row.priority = (
                0.0
                if not row.needs_reply
                else priority_score(result, followers=author.followers_count, age_hours=age_hours)
            )
            row.backend = analyzer.name
            row.model_versions = result.model_versions or dict(analyzer.versions)
            row.analysed_at = now
            row.draft_checked = False  # drafting looks at it again (`responder.drafting.draft_pending`)
            row.faq_checked = False  # ... and the FAQ step (`responder.faq.place_new_questions`)
            session.add(row)
            post.analysed = True  # committed with its analysis, or rolled back with it
            session.add(post)
        try:
            session.commit()
        except IntegrityError:  # another process analysed some of this batch first: one analysis per post, theirs
            session.rollback()
            log.info("another process analysed posts of this batch meanwhile; keeping its analyses")
        if on_batch:
            on_batch(start + len(batch_ids), len(ids))
    log.info("analysed %d posts with the %s backend", len(ids), analyzer.name)
    return len(ids)
