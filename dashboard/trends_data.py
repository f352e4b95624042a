"""What the trends page shows, grouped in the database: posts per local day, platform, language and sentiment;
the same for the period before; share of voice per listening query (ours and competitors'); spike days.

Customer posts only: brand replies, spam and posts deleted on their platform are left out. Only the groups cross
into Python, so the page costs the same at a hundred posts as at a million.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from dashboard import queries
from kikimimi import sqltime
from kikimimi.models import AlertKind, Analysis, ListeningQuery, Post, PostQuery, ours, visible
from kikimimi.settings import AlertSettings
from responder import spikes
from responder.spikes import Spike

SENTIMENTS = ("negative", "neutral", "positive")
SENTIMENT_COLOURS = ("#d62728", "#9e9e9e", "#2ca02c")
# Platforms get colours of their own, never a sentiment's red, grey or green, and keep them whatever is filtered.
PLATFORMS = ("x", "reddit", "bluesky", "mastodon")
PLATFORM_COLOURS = ("#1f3a93", "#f28e2b", "#4fb3d9", "#8e44ad")
QUERY_COLOURS = ("#4e79a7", "#edc948", "#b07aa1", "#76b7b2", "#ff9da7", "#9c755f", "#bab0ac")
PRESETS = (7, 14, 30, 90)  # days; "custom" picks the dates


@dataclass(frozen=True)
class TrendFilter:
    """The posts a trends chart is about: posted in [since, until) in the reader's zone, in these languages,
    on these platforms, matched by these listening queries (None: our own brands' posts)."""

    since: datetime
    until: datetime
    zone: str
    languages: tuple[str, ...] | None = None
    platforms: tuple[str, ...] | None = None
    query_ids: tuple[int, ...] | None = None

    def previous(self) -> TrendFilter:
        """The period of the same length just before this one."""
        length = self.until - self.since
        return replace(self, since=self.since - length, until=self.since)


def period(first: date, last: date, zone: str, **filters: Any) -> TrendFilter:
    """The reader's local days first..last (inclusive) as a filter."""
    since, until = queries.day_range(first, last, zone)
    assert since is not None and until is not None
    return TrendFilter(since=since, until=until, zone=zone, **filters)


def _customer_posts(stmt: Any, f: TrendFilter, *, by_query: bool = False) -> Any:
    stmt = (
        stmt.select_from(Post)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(~col(Post.is_brand_reply), ~col(Analysis.is_spam), visible())
        .where(col(Post.created_at) >= f.since, col(Post.created_at) < f.until)
    )
    if f.languages is not None:
        stmt = stmt.where(col(Analysis.language).in_(f.languages))
    if f.platforms is not None:
        stmt = stmt.where(col(Post.platform).in_(f.platforms))
    if by_query:  # share of voice: every query that matched the post counts it
        stmt = stmt.join(PostQuery, col(PostQuery.post_id) == col(Post.id)).join(
            ListeningQuery, col(ListeningQuery.id) == col(PostQuery.query_id)
        )
        if f.query_ids is not None:
            stmt = stmt.where(col(PostQuery.query_id).in_(f.query_ids))
    elif f.query_ids is not None:
        matched = sa.exists().where(col(PostQuery.post_id) == col(Post.id), col(PostQuery.query_id).in_(f.query_ids))
        stmt = stmt.where(matched)
    else:
        stmt = stmt.where(ours())
    return stmt


def daily(session: Session, f: TrendFilter) -> pd.DataFrame:
    """Posts per local day, platform, language and sentiment (days as 'YYYY-MM-DD' in `f.zone`)."""
    name = sqltime.dialect(session)
    day = sqltime.LocalClock.over(f.zone, f.since, f.until).day(col(Post.created_at), name)
    rows = _customer_posts(
        select(
            day.label("day"),
            col(Post.platform).label("platform"),
            col(Analysis.language).label("language"),
            col(Analysis.sentiment).label("sentiment"),
        ),
        f,
    ).subquery()
    grouped = session.exec(
        select(rows.c.day, rows.c.platform, rows.c.language, rows.c.sentiment, func.count())  # type: ignore[call-overload]
        .group_by(rows.c.day, rows.c.platform, rows.c.language, rows.c.sentiment)
        .order_by(rows.c.day, rows.c.platform, rows.c.language, rows.c.sentiment)
    ).all()
    return pd.DataFrame(grouped, columns=["day", "platform", "language", "sentiment", "posts"])


def negative_share(frame: pd.DataFrame, by: tuple[str, ...] = ("day",)) -> pd.DataFrame:
    """The share of negative posts per group of a `daily` frame, with the posts it is a share of."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, "posts", "negative", "negative_share"])
    grouped = frame.assign(negative=frame["posts"].where(frame["sentiment"] == "negative", 0)).groupby(list(by))
    out = grouped[["posts", "negative"]].sum().reset_index()
    out["negative_share"] = (out["negative"] / out["posts"]).round(4)
    return out


@dataclass
class Totals:
    posts: int
    negative: int

    @property
    def negative_share(self) -> float | None:
        return round(self.negative / self.posts, 4) if self.posts else None


def totals(frame: pd.DataFrame) -> Totals:
    """Posts and negative posts in a `daily` frame."""
    if frame.empty:
        return Totals(0, 0)
    return Totals(int(frame["posts"].sum()), int(frame.loc[frame["sentiment"] == "negative", "posts"].sum()))


def comparison(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Posts and negative share per platform, this period beside the one before (the page's table)."""
    rows = []
    for platform in sorted(set(current["platform"]) | set(previous["platform"]), key=_platform_order):
        now, before = (totals(frame[frame["platform"] == platform]) for frame in (current, previous))
        rows.append((platform, now.posts, before.posts, now.negative_share, before.negative_share))
    now, before = totals(current), totals(previous)
    rows.append(("all", now.posts, before.posts, now.negative_share, before.negative_share))
    return pd.DataFrame(rows, columns=["platform", "posts", "posts_before", "negative_share", "negative_share_before"])


def share_of_voice(session: Session, f: TrendFilter) -> pd.DataFrame:
    """Posts per listening query (ours and competitors'), platform, language and sentiment.

    A post matched by two queries counts for both: share of voice is each brand's share of the mentions."""
    rows = session.exec(
        _customer_posts(
            select(
                ListeningQuery.name,
                ListeningQuery.competitor,
                Post.platform,
                Analysis.language,
                Analysis.sentiment,
                func.count(),
            ),
            f,
            by_query=True,
        )
        .group_by(ListeningQuery.name, ListeningQuery.competitor, Post.platform, Analysis.language, Analysis.sentiment)
        .order_by(ListeningQuery.name, Post.platform, Analysis.language, Analysis.sentiment)
    ).all()
    frame = pd.DataFrame(rows, columns=["query", "competitor", "platform", "language", "sentiment", "posts"])
    frame["competitor"] = frame["competitor"].astype(bool)
    return frame


def voice_shares(frame: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Each query's share of the mentions (within each group of `by`, e.g. platform), and its negative share."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, "query", "competitor", "posts", "share", "negative_share"])
    keys = [*by, "query", "competitor"]
    out = negative_share(frame, tuple(keys))
    group_total = out.groupby(list(by))["posts"].transform("sum") if by else out["posts"].sum()
    out["share"] = (out["posts"] / group_total).round(4)
    return out[[*keys, "posts", "share", "negative_share"]]


def queries_listened(session: Session) -> pd.DataFrame:
    """Every listening query, for the page's brand filter: id, name, competitor or ours."""
    rows = session.exec(
        select(ListeningQuery.id, ListeningQuery.name, ListeningQuery.competitor).order_by(
            ListeningQuery.competitor, ListeningQuery.name
        )
    ).all()
    return pd.DataFrame(rows, columns=["id", "name", "competitor"])


def negative_spikes(session: Session, f: TrendFilter, settings: AlertSettings) -> list[Spike]:
    """The negativity spikes in the filter's period, found by the alerts' own detection (`responder.spikes`: the
    last hour against the 12 before it, the last day against the 14 before it), for the one platform, language
    and listening query the filter names (each of them when it names none or several). Oldest first."""

    def one(values: tuple | None) -> Any:
        return values[0] if values is not None and len(values) == 1 else None

    found = spikes.spikes(
        session,
        since=f.since,
        until=f.until,
        query_id=one(f.query_ids),
        platform=one(f.platforms),
        language=one(f.languages),
        settings=settings,
    )
    return [spike for spike in found if spike.kind == AlertKind.negative_spike]


def spike_posts(session: Session, spike: Spike, *, limit: int = 20) -> list:
    """The posts behind a spike (newest first, at most `limit`)."""
    stmt = (
        select(Post.created_at, Post.platform, Analysis.language, Post.text, Post.url)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Post.id).in_(spike.post_ids[:limit]), visible())  # bounded: a spike keeps at most 50 ids
        .order_by(col(Post.created_at).desc())
    )
    return list(session.exec(stmt).all())


def _platform_order(platform: str) -> tuple[int, str]:
    return (PLATFORMS.index(platform) if platform in PLATFORMS else len(PLATFORMS), platform)


def default_range(today: date, days: int) -> tuple[date, date]:
    """The last `days` local days, today included."""
    return today - timedelta(days=days - 1), today
