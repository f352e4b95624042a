"""A person's corrections in the inbox that are not moves of a draft: "not spam" rescues.

The analysis stage marks spam by rules; a person who sees a customer misfiled says "not spam". That is stored on
the post (`Post.not_spam`), which the analysis stage respects on every re-analysis, and the post gets the reply
it needed: its analysis is corrected and a draft is written. Responders and above may do it (correcting an
analysis); each rescue, allowed or refused, is in the audit table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, col, select

from kikimimi import audit
from kikimimi.errors import IllegalTransition, PermissionDenied
from kikimimi.models import Analysis, Author, Post, ReplyDraft, Role, User
from kikimimi.settings import BrandConfig
from kikimimi.timeutil import utcnow
from nlp_models.priority import priority_score
from nlp_models.stage import needs_reply
from nlp_models.types import EmpathyCue, TextAnalysis
from responder.drafting import draft_pending

CORRECTORS = frozenset({Role.responder, Role.approver, Role.admin})


def mark_not_spam(
    session: Session,
    post_id: int,
    actor: User,
    *,
    templates_dir: Path | None = None,
    brands: Sequence[BrandConfig] = (),
) -> ReplyDraft | None:
    """Rescue a post from spam for good; returns the draft it now has (None if it needs no reply). Commits."""
    if actor.role not in CORRECTORS or not actor.active:
        error = PermissionDenied(f"{actor.name} ({actor.role}) may not correct an analysis")
        raise audit.refused(session, actor, "mark_not_spam", "post", post_id, error)
    row = session.exec(
        select(Post, Analysis, Author)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .where(Post.id == post_id)
    ).first()
    if row is None:
        raise audit.refused(session, actor, "mark_not_spam", "post", post_id, IllegalTransition("no analysed post"))
    post, analysis, author = row
    post.not_spam = True
    analysis.is_spam = False
    as_read = TextAnalysis(
        language=analysis.language,
        sentiment=analysis.sentiment,
        sentiment_scores=dict(analysis.sentiment_scores),
        is_question=analysis.is_question,
        question_score=analysis.question_score,
        intent=analysis.intent,
        intent_score=analysis.intent_score,
        empathy_cues=[EmpathyCue(**c) for c in analysis.empathy_cues],
    )
    analysis.needs_reply = needs_reply(as_read, spam=False, by_brand=author.is_brand)
    age_hours = (utcnow() - post.created_at).total_seconds() / 3600
    analysis.priority = (
        priority_score(as_read, followers=author.followers_count, age_hours=age_hours) if analysis.needs_reply else 0.0
    )
    session.add_all([post, analysis])
    audit.record(session, actor, "mark_not_spam", "post", post_id)
    session.commit()
    draft_pending(session, templates_dir=templates_dir, brands=brands, post_ids=[post_id])
    return session.exec(select(ReplyDraft).where(ReplyDraft.post_id == post_id)).first()
