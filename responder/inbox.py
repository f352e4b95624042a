"""A person's corrections in the inbox that are not moves of a draft: "not spam" rescues.

The analysis stage marks spam by rules; a person who sees a customer misfiled says "not spam". That is stored on
the post (`Post.not_spam`), which the analysis stage respects on every re-analysis, and the post gets the reply
it needed: its analysis is corrected and a draft is written. Responders and above may do it (correcting an
analysis); each rescue, allowed or refused, is in the audit table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from kikimimi import audit
from kikimimi.errors import IllegalTransition, PermissionDenied
from kikimimi.models import Analysis, AnalysisCorrection, Post, ReplyDraft, Role, User
from kikimimi.settings import BrandConfig
from kikimimi.timeutil import utcnow
from nlp_models.priority import priority_score
from nlp_models.stage import addressed_flags, brand_handles, needs_reply
from nlp_models.types import INTENTS, EmpathyCue, TextAnalysis
from responder.drafting import analysed_posts, draft_pending

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
    row = session.exec(analysed_posts().where(Post.id == post_id)).first()
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


# --- corrections of an analysis (intent, sentiment, needs a reply), kept as such for retraining ---

CORRECTABLE = ("intent", "sentiment", "needs_reply")
SENTIMENTS = ("negative", "neutral", "positive")


def _as_text(field: str, value: object) -> str:
    if field == "needs_reply":
        return "true" if value in (True, "true", "1", 1) else "false"
    return str(value)


def corrected(session: Session, post_ids: list[int]) -> dict[int, dict[str, str]]:
    """post id -> {field: the latest correction's value} (posts nobody corrected are left out)."""
    if not post_ids:
        return {}
    stmt = (
        select(AnalysisCorrection)
        .where(col(AnalysisCorrection.post_id).in_(post_ids))
        .order_by(col(AnalysisCorrection.corrected_at), col(AnalysisCorrection.id))
    )
    latest: dict[int, dict[str, str]] = {}
    for row in session.exec(stmt):
        latest.setdefault(row.post_id, {})[row.field] = row.new_value
    return latest


def correct_analysis(
    session: Session, post_id: int, actor: User, changes: dict[str, object], *, now: datetime | None = None
) -> list[AnalysisCorrection]:
    """Record a person's corrections of a post's analysis (the model's row stays as it was); commits.

    Only fields whose value differs from what the queue shows now (the latest correction, else the model's) are
    recorded; an unknown field or value is refused. Responders and up may correct; each change is audited.
    """
    if actor.role not in CORRECTORS or not actor.active:
        error = PermissionDenied(f"{actor.name} ({actor.role}) may not correct an analysis")
        raise audit.refused(session, actor, "correct_analysis", "post", post_id, error)
    analysis = session.exec(select(Analysis).where(Analysis.post_id == post_id)).first()
    allowed = {"intent": INTENTS, "sentiment": SENTIMENTS, "needs_reply": ("true", "false")}
    bad = [f"{k}={v!r}" for k, v in changes.items() if k not in allowed or _as_text(k, v) not in allowed[k]]
    if analysis is None or bad:
        error = IllegalTransition(f"cannot correct {', '.join(bad)}" if bad else "no analysed post")
        raise audit.refused(session, actor, "correct_analysis", "post", post_id, error)
    now = now or utcnow()
    shown = {f: _as_text(f, getattr(analysis, f)) for f in CORRECTABLE} | corrected(session, [post_id]).get(post_id, {})
    made = []
    for field, value in changes.items():
        new = _as_text(field, value)
        if new == shown[field]:
            continue
        made.append(
            AnalysisCorrection(
                post_id=post_id,
                field=field,
                old_value=shown[field],
                new_value=new,
                corrected_by=actor.name,
                corrected_at=now,
            )
        )
        audit.record(session, actor, "correct_analysis", "post", post_id, reason=f"{field}: {shown[field]} → {new}")
    session.add_all(made)
    session.commit()
    return made


@dataclass
class CorrectedPost:
    """One corrected post as training reads it: None where a field was not corrected."""

    post_id: int
    platform: str
    language: str
    text: str
    addresses_brand: bool
    needs_reply: str | None
    intent: str | None
    sentiment: str | None
    corrected_by: str
    corrected_at: datetime


def corrected_posts(session: Session) -> list[CorrectedPost]:
    """Every corrected post (the latest correction of each field wins), oldest correction first."""
    rows = session.exec(
        select(AnalysisCorrection, Post, Analysis)
        .join(Post, col(Post.id) == col(AnalysisCorrection.post_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .order_by(col(AnalysisCorrection.corrected_at), col(AnalysisCorrection.id))
    ).all()
    found: dict[int, CorrectedPost] = {}
    for correction, post, analysis in rows:
        item = found.get(post.id)  # type: ignore[arg-type]
        if item is None:
            item = found[post.id] = CorrectedPost(  # type: ignore[index]
                post_id=post.id,  # type: ignore[arg-type]
                platform=post.platform,
                language=analysis.language,
                text=post.text,
                addresses_brand=False,  # filled in below, for all posts at once
                needs_reply=None,
                intent=None,
                sentiment=None,
                corrected_by=correction.corrected_by,
                corrected_at=correction.corrected_at,
            )
        setattr(item, correction.field, correction.new_value)
        item.corrected_by, item.corrected_at = correction.corrected_by, correction.corrected_at
    posts = {post.id: post for _, post, _ in rows}
    items = list(found.values())
    flags = addressed_flags(session, [posts[i.post_id] for i in items], brand_handles(session))
    for item, flag in zip(items, flags, strict=True):
        item.addresses_brand = flag
    return items
