"""What the dashboard pages show and do, as plain functions over a session (tested without a browser)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, func, select

from kikimimi.budget import NEARLY_SPENT, budget_line, budget_states, spent_message
from kikimimi.models import Analysis, Author, DraftState, Post, ReplyDraft, ReviewEvent, User, visible
from kikimimi.settings import Settings
from responder.pause import posting_pause
from responder.workflow import transition

# unknown: being looked up, nothing to do yet; not_posted: the lookup showed nothing was posted, Retry is offered
QUEUE_STATES = (DraftState.drafted, DraftState.approved, DraftState.failed, DraftState.unknown, DraftState.not_posted)


@dataclass
class QueueItem:
    draft: ReplyDraft
    post: Post
    author: Author
    analysis: Analysis


def queue(
    session: Session,
    *,
    states: tuple[DraftState, ...] = QUEUE_STATES,
    platforms: list[str] | None = None,
    languages: list[str] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[QueueItem], int]:
    """Drafts waiting for a person, most urgent first; returns (page of items, total)."""
    stmt = (
        select(ReplyDraft, Post, Author, Analysis)
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(ReplyDraft.state).in_([s.value for s in states]))
        .where(visible())
    )
    if platforms:
        stmt = stmt.where(col(Post.platform).in_(platforms))
    if languages:
        stmt = stmt.where(col(Analysis.language).in_(languages))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(Analysis.priority).desc(), col(Post.created_at)).offset(offset).limit(limit)
    ).all()
    return [QueueItem(*row) for row in rows], int(total)


def author_history(session: Session, author: Author, *, exclude_post_id: int | None = None) -> pd.DataFrame:
    """The author's other posts, and posts by the same display name on other platforms (marked as such)."""
    same_name = (
        (col(Author.display_name) == author.display_name) & (col(Author.platform) != author.platform)
        if author.display_name
        else col(Author.id) == author.id
    )
    rows = session.exec(
        select(
            Post.created_at,
            Post.platform,
            Author.handle,
            Post.text,
            Analysis.sentiment,
            Post.url,
            col(Author.id) == author.id,
        )
        .join(Author, col(Author.id) == col(Post.author_id))
        .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
        .where((col(Author.id) == author.id) | same_name)
        .where(visible())
        .where(col(Post.id) != (exclude_post_id or -1))
        .order_by(col(Post.created_at).desc())
        .limit(50)
    ).all()
    frame = pd.DataFrame(rows, columns=["created_at", "platform", "handle", "text", "sentiment", "url", "same_account"])
    return frame


def review_log(session: Session, draft_id: int) -> list[ReviewEvent]:
    return list(session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft_id).order_by(ReviewEvent.at)))


def act_on_draft(session: Session, draft_id: int, action: str, user: User, text: str | None = None) -> ReplyDraft:
    """Edit, approve or reject a draft as `user`; an edit to the text is saved before approving it."""
    draft = session.get(ReplyDraft, draft_id)
    if draft is None:
        raise LookupError(f"no draft {draft_id}")
    if text is not None and text != draft.text and action != "reject":
        transition(session, draft, "edit", user, text=text)
    if action != "edit":
        transition(session, draft, action, user)
    session.commit()
    return draft


def pause_banner(session: Session) -> str | None:
    """The line every page shows while posting is paused (None while it is not)."""
    state = posting_pause(session)
    if not state.paused:
        return None
    when = f" since {state.at:%Y-%m-%d %H:%M} UTC" if state.at else ""
    return f"Posting is paused by {state.by}{when}" + (f": {state.reason}" if state.reason else "")


def read_budget_line(session: Session, settings: Settings) -> str | None:
    """The line a page shows about the monthly read budgets: which platform stopped collecting and when it
    resumes, or which is nearly spent; None while every budget has room (or none is set)."""
    states = [s for s in budget_states(session, settings) if s.budget is not None]
    spent = [s for s in states if s.spent]
    if spent:
        return " · ".join(spent_message(s) for s in spent)
    nearly = [s for s in states if s.budget and s.read >= NEARLY_SPENT * s.budget]
    return " · ".join(budget_line(s) for s in nearly) or None


def daily_trends(session: Session, display_tz: str) -> pd.DataFrame:
    """Posts per local day, platform and sentiment (brand replies and spam excluded)."""
    rows = session.exec(
        select(Post.created_at, Post.platform, Analysis.sentiment, Analysis.language)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(~col(Post.is_brand_reply), ~col(Analysis.is_spam), visible())
    ).all()
    frame = pd.DataFrame(rows, columns=["created_at", "platform", "sentiment", "language"])
    if frame.empty:
        return pd.DataFrame(columns=["day", "platform", "sentiment", "language", "posts"])
    frame["day"] = pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert(display_tz).dt.strftime("%Y-%m-%d")
    return frame.groupby(["day", "platform", "sentiment", "language"]).size().rename("posts").reset_index()


def negative_spikes(trends: pd.DataFrame, *, factor: float = 2.0, minimum: int = 5) -> pd.DataFrame:
    """Days whose negative count is ≥ `factor` × the median day and at least `minimum` posts."""
    negative = trends[trends["sentiment"] == "negative"].groupby("day")["posts"].sum()
    if negative.empty:
        return pd.DataFrame(columns=["day", "negative_posts", "typical_day"])
    typical = float(negative.median())
    spikes = negative[(negative >= factor * typical) & (negative >= minimum)]
    return pd.DataFrame({"day": spikes.index, "negative_posts": spikes.values, "typical_day": typical})
