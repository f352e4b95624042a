"""The service-level clock: first-response time (FRT) and the support KPIs, per platform and per day.

Pure functions over a table of posts that needed a reply (built by `response_table`), so every figure
on the service-level page is tested without a browser. Storage is UTC; `display_tz` is for grouping only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from kikimimi.models import Analysis, DraftState, Post, ReplyDraft, visible
from kikimimi.settings import ServiceLevels
from kikimimi.timeutil import utcnow

LEVELS = ("Stellar", "Above average", "Average", "Below average", "Unacceptable")
_SENTIMENT_VALUE = {"negative": -1, "neutral": 0, "positive": 1}
_CHUNK = 500  # author ids per statement


def service_level(minutes: float | None, levels: ServiceLevels) -> str | None:
    """Place one first-response time on the five-level ladder (None while unanswered)."""
    if minutes is None or pd.isna(minutes):
        return None
    for name, bound in zip(
        LEVELS, (levels.stellar, levels.above_average, levels.average, levels.below_average), strict=False
    ):
        if minutes <= bound:
            return name
    return LEVELS[-1]


def response_table(session: Session) -> pd.DataFrame:
    """One row per post that needed a reply: when it was posted, when (if ever) the brand first answered, how often."""
    reply = aliased(Post)
    brand_replies = (
        select(
            reply.platform,
            reply.parent_external_id,
            func.min(reply.created_at).label("first_reply_at"),
            func.count().label("replies"),
        )
        .where(reply.is_brand_reply)
        .group_by(reply.platform, reply.parent_external_id)
        .subquery()
    )
    posted_drafts = (
        select(ReplyDraft.post_id, func.min(ReplyDraft.posted_at).label("posted_at"), func.count().label("n"))
        .where(ReplyDraft.state == DraftState.posted)
        .group_by(ReplyDraft.post_id)
        .subquery()
    )
    stmt = (
        select(
            Post.id,
            Post.platform,
            Post.author_id,
            Post.thread_id,
            Post.created_at,
            Analysis.sentiment,
            brand_replies.c.first_reply_at,
            brand_replies.c.replies,
            posted_drafts.c.posted_at,
            posted_drafts.c.n,
        )
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .outerjoin(
            brand_replies,
            (brand_replies.c.platform == Post.platform) & (brand_replies.c.parent_external_id == Post.external_id),
        )
        .outerjoin(posted_drafts, posted_drafts.c.post_id == Post.id)
        .where(Analysis.needs_reply)
        # a post deleted on its platform before anyone answered cannot be answered: it is no abandonment
        .where(
            visible() | col(brand_replies.c.first_reply_at).is_not(None) | col(posted_drafts.c.posted_at).is_not(None)
        )
    )
    rows = session.exec(stmt).all()  # type: ignore[call-overload]
    frame = pd.DataFrame(
        rows,
        columns=[
            "post_id",
            "platform",
            "author_id",
            "thread_id",
            "created_at",
            "sentiment",
            "first_reply_at",
            "replies",
            "posted_at",
            "posted_n",
        ],
    )
    for column in ("created_at", "first_reply_at", "posted_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["responded_at"] = frame[["first_reply_at", "posted_at"]].min(axis=1)
    frame["replies"] = frame["replies"].fillna(0) + frame["posted_n"].fillna(0)
    frame["frt_minutes"] = (frame["responded_at"] - frame["created_at"]).dt.total_seconds() / 60
    return frame.drop(columns=["first_reply_at", "posted_at", "posted_n"])


@dataclass
class Kpis:
    needing_reply: int
    answered: int
    response_rate: float | None
    median_frt_minutes: float | None
    mean_frt_minutes: float | None
    within_target_rate: float | None
    abandonment_rate: float | None  # of the posts old enough to have missed the target (`past_target`)
    past_target: int
    one_touch_rate: float | None
    levels: dict[str, int]


def kpis(frame: pd.DataFrame, levels: ServiceLevels, now: datetime | None = None) -> Kpis:
    """Headline KPIs. Abandoned: needed a reply and had none once the target time had passed.

    Abandonment is a share of the posts older than the target only: a post that arrived ten minutes ago
    cannot have been abandoned yet, so counting it would make a busy hour look like good service.
    """
    now = now or utcnow()
    total = len(frame)
    answered = frame[frame["frt_minutes"].notna()]
    past_target = (pd.Timestamp(now) - frame["created_at"]).dt.total_seconds() / 60 > levels.target
    abandoned = frame["frt_minutes"].isna() & past_target
    counts = answered["frt_minutes"].map(lambda m: service_level(m, levels)).value_counts()
    return Kpis(
        needing_reply=total,
        answered=len(answered),
        response_rate=_rate(len(answered), total),
        median_frt_minutes=_num(answered["frt_minutes"].median()),
        mean_frt_minutes=_num(answered["frt_minutes"].mean()),
        within_target_rate=_rate(int((answered["frt_minutes"] <= levels.target).sum()), len(answered)),
        abandonment_rate=_rate(int(abandoned.sum()), int(past_target.sum())),
        past_target=int(past_target.sum()),
        one_touch_rate=_rate(int((answered["replies"] == 1).sum()), len(answered)),
        levels={name: int(counts.get(name, 0)) for name in LEVELS},
    )


def daily_frt(frame: pd.DataFrame, display_tz: str, *, min_answered: int = 3) -> pd.DataFrame:
    """Median FRT per platform per local day (ISO date strings), flagging jumps from the day before.

    A jump is ≥ 2× and ≥ 5 min, between two days that each have at least `min_answered` answers
    (a median of one or two replies is noise, not a staffing signal).
    """
    answered = frame[frame["frt_minutes"].notna()].copy()
    if answered.empty:
        return pd.DataFrame(columns=["day", "platform", "median_frt_minutes", "answered", "jump"])
    answered["day"] = answered["created_at"].dt.tz_convert(display_tz).dt.strftime("%Y-%m-%d")
    daily = (
        answered.groupby(["platform", "day"])["frt_minutes"]
        .agg(["median", "count"])
        .reset_index()
        .rename(columns={"median": "median_frt_minutes", "count": "answered"})
        .sort_values(["platform", "day"])
    )
    by_platform = daily.groupby("platform")
    previous, previous_n = by_platform["median_frt_minutes"].shift(), by_platform["answered"].shift()
    enough = (daily["answered"] >= min_answered) & (previous_n >= min_answered)
    daily["jump"] = (
        enough & (daily["median_frt_minutes"] >= 2 * previous) & (daily["median_frt_minutes"] - previous >= 5)
    )
    return daily[["day", "platform", "median_frt_minutes", "answered", "jump"]].reset_index(drop=True)


def volume_by_hour(created_at: pd.Series, display_tz: str) -> pd.DataFrame:
    """Post counts by local weekday and hour, so leads can staff for the busy hours."""
    local = pd.to_datetime(created_at, utc=True).dt.tz_convert(display_tz)
    frame = pd.DataFrame({"weekday": local.dt.day_name(), "hour": local.dt.hour})
    return frame.value_counts().rename("posts").reset_index()


def sentiment_recovery(session: Session, frame: pd.DataFrame | None = None) -> float | None:
    """Among negative posts the brand answered, the share whose author's next post was less negative."""
    frame = response_table(session) if frame is None else frame
    answered = frame[(frame["sentiment"] == "negative") & frame["responded_at"].notna()]
    if answered.empty:
        return None
    authors = answered["author_id"].unique().tolist()
    rows = [  # in chunks: no statement's parameters grow with the table
        row
        for start in range(0, len(authors), _CHUNK)
        for row in session.exec(
            select(Post.author_id, Post.created_at, Analysis.sentiment)
            .join(Analysis, col(Analysis.post_id) == col(Post.id))
            .where(col(Post.author_id).in_(authors[start : start + _CHUNK]), ~col(Post.is_brand_reply))
        ).all()
    ]
    later = pd.DataFrame(rows, columns=["author_id", "created_at", "sentiment"])
    later["created_at"] = pd.to_datetime(later["created_at"], utc=True)
    improved = followed_up = 0
    for row in answered.itertuples():
        after = later[(later["author_id"] == row.author_id) & (later["created_at"] > row.responded_at)]
        if after.empty:
            continue
        followed_up += 1
        improved += _SENTIMENT_VALUE[after.sort_values("created_at").iloc[0]["sentiment"]] > -1
    return _rate(improved, followed_up)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _num(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 1)
