"""Customer posts and negative ones per UTC hour, listening query, platform and language (what spike detection
counts), read from the summary the pipeline pass keeps (`HourCount`) for the hours it covers and counted live for
the rest: hours since the last refresh, hours the database triggers marked dirty, and any part-hour at the ends.
Either way the rows are the same; from the summary they cost the hours of the period, not its posts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from kikimimi.models import Analysis, HourCount, HourDirty, Post, visible
from kikimimi.timeutil import as_utc, utcnow
from responder import summaries

NAME = "hours"
HOUR = timedelta(hours=1)
MAX_RUNS = 100  # parts of one statement (SQLite allows 500 selects in a compound one)
COLUMNS = ("hour_start", "query_id", "platform", "language", "posts", "negative")


def hour_text(session: Session, column: Any) -> Any:
    """The UTC hour of a stored time as text 'YYYY-MM-DD HH', on SQLite (naive UTC text) and PostgreSQL alike."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)


def _live(session: Session, where: Any, *, summary: bool = False) -> Any:
    """(query_id, platform, language, hour 'YYYY-MM-DD HH', posts, negative) of the customer posts meeting
    `where`; with `summary`, the first post's time instead of the hour's text (its start is stored)."""
    negative = func.sum(sa.case((col(Analysis.sentiment) == "negative", 1), else_=0))
    hour = hour_text(session, col(Post.created_at))
    return (
        select(
            *([func.min(col(Post.created_at))] if summary else []),
            Post.query_id,
            Post.platform,
            Analysis.language,
            *([] if summary else [hour.label("hour")]),
            func.count(),
            negative,
        )
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(~col(Post.is_brand_reply), ~col(Analysis.is_spam), visible(), where)
        .group_by(Post.query_id, Post.platform, Analysis.language, hour)
    )


def _in_dirty_hours(session: Session, where: Any, *, summary: bool = False) -> list[Any]:
    """Live counts of the dirty hours meeting `where`: one part per run of consecutive dirty hours, each a range of
    post times the index on `created_at` serves (joined to the dirty hours, SQLite built an index over every
    analysis for each hour: 4.4 s at a million posts). Many scattered hours (a bulk change) take one join."""
    runs: list[tuple[datetime, datetime]] = []
    for start, end in session.exec(
        select(HourDirty.hour_start, HourDirty.hour_end).where(where).order_by(col(HourDirty.hour_start))
    ):
        start, end = as_utc(start), as_utc(end)
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    created = col(Post.created_at)
    if len(runs) > MAX_RUNS:
        joined = (created >= col(HourDirty.hour_start)) & (created < col(HourDirty.hour_end))
        return [_live(session, where, summary=summary).join(HourDirty, joined)]
    return [_live(session, (created >= start) & (created < end), summary=summary) for start, end in runs]


def counts(session: Session, *, since: datetime, until: datetime) -> list[Any]:
    """(query_id, platform, language, hour 'YYYY-MM-DD HH', posts, negative) rows for the posts in [since, until)."""
    current = summaries.state(session, NAME)
    created = col(Post.created_at)

    def live(start: datetime, end: datetime) -> Any:
        return _live(session, (created >= start) & (created < end))

    whole_from = _ceil_hour(since)
    through = min(as_utc(current.through), floor_hour(until)) if current is not None else whole_from
    if through <= whole_from:
        return list(session.exec(live(since, until)).all())  # type: ignore[call-overload]
    in_summary = (col(HourDirty.hour_start) >= whole_from) & (col(HourDirty.hour_start) < through)
    parts = [
        select(
            HourCount.query_id,
            HourCount.platform,
            HourCount.language,
            hour_text(session, col(HourCount.hour_start)).label("hour"),
            HourCount.posts,
            HourCount.negative,
        ).where(
            col(HourCount.hour_start) >= whole_from,
            col(HourCount.hour_start) < through,
            col(HourCount.hour_start).not_in(select(HourDirty.hour_start)),
        ),
    ]
    parts += _in_dirty_hours(session, in_summary)  # none when no hour is dirty
    if since < whole_from:
        parts.append(live(since, whole_from))
    if through < until:
        parts.append(live(through, until))
    return list(session.exec(sa.union_all(*parts)).all())  # type: ignore[call-overload]


def refresh(session: Session, now: datetime | None = None) -> int:
    """Count the hours since the last refresh (every hour before the current one, on a first build) and recount
    the dirty ones, in bulk statements; commits. Returns the rows written."""
    end = floor_hour(now or utcnow())
    session.commit()  # its own transaction: the lock is the first it takes, then the summary's state is read
    summaries.lock(session, "hourdirty")
    current = summaries.state(session, NAME)
    start = as_utc(current.through) if current is not None else None
    hours = col(HourCount.hour_start)
    stale = hours.in_(select(HourDirty.hour_start))
    session.execute(sa.delete(HourCount).where(stale))  # each by its own index, not an OR of both
    session.execute(sa.delete(HourCount).where(hours < end, *([hours >= start] if start is not None else [])))
    created = col(Post.created_at)
    new = created < end if start is None else (created >= start) & (created < end)
    parts = [_live(session, new, summary=True)]
    if start is not None:  # the dirty hours before `start` (the later ones are in `new`)
        parts += _in_dirty_hours(session, col(HourDirty.hour_start) < start, summary=True)
    rows = sa.union_all(*parts).subquery()
    first, *rest = list(rows.c)
    insert = sa.insert(HourCount).from_select(list(COLUMNS), select(hour_start(session, first), *rest))
    result = session.execute(insert.execution_options(preserve_rowcount=True))
    session.execute(sa.delete(HourDirty))
    summaries.save_state(session, NAME, end, "")
    session.commit()
    return max(int(result.rowcount or 0), 0)


def clear(session: Session) -> None:
    """Forget the summary: spikes are counted live until the next refresh rebuilds it."""
    session.execute(sa.delete(HourCount))
    session.execute(sa.delete(HourDirty))
    session.execute(sa.text("DELETE FROM summarystate WHERE name = :n"), {"n": NAME})
    session.commit()


def hour_start(session: Session, moment: Any) -> Any:
    """The start of the UTC hour of `moment`, as the tables store times."""
    if session.get_bind().dialect.name == "postgresql":
        return func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", moment)))
    return func.strftime("%Y-%m-%d %H:00:00.000000", moment)


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour `moment` falls in (a naive time is UTC, as stored)."""
    return as_utc(moment).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == as_utc(moment) else floor + HOUR
