"""Counts for `kikimimi stats`: what is stored, analysed, asked, drafted, grouped (no pipeline stage imported)."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from kikimimi.budget import budget_states
from kikimimi.models import Analysis, Author, CollectorRun, DraftState, FaqCluster, Post, ReplyDraft
from kikimimi.settings import Settings


def stats(session: Session, settings: Settings | None = None) -> dict:
    """Counts for `kikimimi stats`: what is stored, analysed, asked, drafted, grouped."""

    def count(model: type, *where: object) -> int:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[arg-type]

    drafts = dict(session.exec(select(ReplyDraft.state, func.count()).group_by(ReplyDraft.state)).all())
    return {
        "posts": count(Post, col(Post.deleted_at).is_(None)),  # shown posts; deleted ones are counted below
        "authors": count(Author),
        "brand_replies": count(Post, Post.is_brand_reply),
        "analysed": count(Analysis),
        "questions": count(Analysis, Analysis.is_question),
        "needs_reply": count(Analysis, Analysis.needs_reply),
        "spam": count(Analysis, Analysis.is_spam),
        "drafts": {state.value: int(drafts.get(state.value, 0)) for state in DraftState},
        "faq_clusters": count(FaqCluster, col(FaqCluster.merged_into_id).is_(None)),  # merged-away ones are gone
        "collector_runs": count(CollectorRun),
        "deleted_on_platform": count(Post, col(Post.deleted_at).is_not(None)),
        "read_budget": [s.as_dict() for s in budget_states(session, settings)] if settings is not None else [],
    }
