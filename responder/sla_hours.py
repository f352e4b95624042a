"""The posts of our brands that needed a reply per UTC hour, platform, language and promptness, how many were answered
and every first-response time (`ResponseHour`): what the service-levels page's daily medians, per-platform table and
staffing hours and the jump check read for a month of days without looking up every post again.

Each row keeps every FRT of its hour exactly, so a median (and the counts) over hours is the one computed post by
post; a local day, weekday and hour is a set of whole UTC hours in every zone whose offsets are whole hours (in other
zones the period is read live). Part-hours at the ends, the hours since the last refresh and the dirty hours are read
live beside the summary. Dirty: the hours of the posts the triggers marked dirty (`responsedirty`, carried over here
by each refresh of the service-level summary before it clears them) and the hours a post left (migration 0018's
triggers). The rows depend on configuration (automatic handles, business hours, `sla_window_minutes`): a reader
whose fingerprint differs reads live. `responder.sla` computes the rows and the figures; this module stores them and
finds which of a period's hours it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, func, select

from kikimimi.models import Post, ResponseDirty, ResponseHour, ResponseHourDirty
from kikimimi.timeutil import as_utc, utcnow
from responder import hour_counts, summaries

NAME = "response_hours"
HOUR = timedelta(hours=1)
CHUNK = timedelta(days=7)  # a first build computes a week per statement
MAX_RUNS = 24  # live parts for dirty hours one read takes before it reads the whole period live instead
FLOATS = np.dtype("<f8")  # how `minutes` stores the FRTs: little-endian doubles, exact
MAX_LIVE = timedelta(days=1)  # ... and the most time of posts it reads live beside the summary

# a SELECT of (first post's time, platform, language, prompt, posts, answered, the FRTs as text exact to the last bit,
# comma-separated) per hour, platform, language and prompt, for the posts created in [since, until)
Rows = Callable[[datetime, datetime], Any]


def mark_dirty_posts(session: Session) -> None:
    """Mark the hours of the posts in `responsedirty` (a refresh of the service-level summary calls this before it
    clears those marks, so their hours here are recomputed too)."""
    hours = (
        select(hour_counts.hour_start(session, col(Post.created_at)).label("h"))
        .join(ResponseDirty, col(ResponseDirty.post_id) == col(Post.id))
        .distinct()
        .subquery()
    )
    new = select(hours.c.h).where(hours.c.h.not_in(select(ResponseHourDirty.hour_start)))
    if session.get_bind().dialect.name == "postgresql":  # a trigger may mark one of them meanwhile
        session.execute(postgresql.insert(ResponseHourDirty).from_select(["hour_start"], new).on_conflict_do_nothing())
    else:
        session.execute(sa.insert(ResponseHourDirty).from_select(["hour_start"], new))


def refresh(session: Session, mark: str, rows: Rows, now: datetime | None = None) -> int:
    """Compute the hours since the last refresh (every hour before the current one, on a first build) and recompute
    the dirty ones, in bulk statements; commits. Returns the rows written. A changed `mark` starts over."""
    end = hour_counts.floor_hour(now or utcnow())
    session.commit()  # its own transaction: the lock is the first it takes, then the summary's state is read
    summaries.lock(session, "responsehourdirty")
    current = summaries.state(session, NAME)
    if current is not None and current.fingerprint != mark:
        current = None
        session.execute(sa.delete(ResponseHour))
    hours = col(ResponseHour.hour_start)
    if current is None:
        first = session.exec(select(func.min(Post.created_at))).one()
        start = hour_counts.floor_hour(first) if first is not None else end
        ranges = [(s, min(s + CHUNK, end)) for s in _steps(start, end, CHUNK)]
    else:
        start = as_utc(current.through)
        marked = col(ResponseHourDirty.hour_start)
        dirty = [as_utc(h) for h in session.exec(select(marked).where(marked < start))]
        runs = _runs(sorted(dirty))
        if len(runs) > MAX_RUNS:  # a bulk change: one span, however many clean hours it recomputes with them
            runs = [(s, min(s + CHUNK, runs[-1][1])) for s in _steps(runs[0][0], runs[-1][1], CHUNK)]
        ranges = [*runs, *([(start, end)] if start < end else [])]
    written = 0
    for since, until in ranges:
        session.execute(sa.delete(ResponseHour).where(hours >= since, hours < until))
        found = [
            {
                "hour_start": hour_counts.floor_hour(_moment(first_at)),
                "platform": platform,
                "language": language,
                "prompt": bool(prompt),
                "posts": int(posts),
                "answered": int(answered),
                "minutes": _pack(listed),
            }
            for first_at, platform, language, prompt, posts, answered, listed in session.execute(rows(since, until))
        ]
        if found:
            session.execute(sa.insert(ResponseHour), found)
        written += len(found)
    session.execute(sa.delete(ResponseHourDirty))
    summaries.save_state(session, NAME, end, mark)
    session.commit()
    return written


def clear(session: Session) -> None:
    """Forget the summary: daily medians are computed live until the next refresh rebuilds it."""
    session.execute(sa.delete(ResponseHour))
    session.execute(sa.delete(ResponseHourDirty))
    session.execute(sa.text("DELETE FROM summarystate WHERE name = :n"), {"n": NAME})
    session.commit()


@dataclass
class Hour:
    """One summarised row of a clean whole hour: its start (UTC), platform, posts, answered posts and their FRTs."""

    start: datetime
    platform: str
    posts: int
    answered: int
    minutes: np.ndarray  # float64


@dataclass
class Cover:
    """What the summary holds of a period (`hours`) and the ranges of it to read live (`live`): the part-hours
    at the ends, the hours since `through` and the dirty hours."""

    hours: list[Hour]
    live: list[tuple[datetime, datetime]]


def cover(
    session: Session,
    mark: str,
    *,
    since: datetime,
    until: datetime,
    zone: str,
    platforms: tuple[str, ...] | None = None,
    languages: tuple[str, ...] | None = None,
    prompt_only: bool = False,
    settled: datetime | None = None,
) -> Cover | None:
    """The summary's rows for the posts created in [since, until) (only up to `settled`, if given) and the ranges
    left to read live. None when it cannot serve the period (missing, built with other settings, a zone whose
    local hours are not whole UTC hours, too many dirty hours): the caller computes the period live."""
    current = summaries.state(session, NAME)
    if current is None or current.fingerprint != mark:
        return None
    first = _ceil_hour(since)
    through = min(as_utc(current.through), hour_counts.floor_hour(min(until, settled or until)))
    tz = ZoneInfo(zone)
    if through <= first or not _whole_hours(tz, first, through):
        return None
    dirty = _dirty(session, first, through)
    runs = _runs(sorted(dirty))
    ends = [*([(since, first)] if since < first else []), *runs, *([(through, until)] if through < until else [])]
    now = utcnow()  # a summary days behind (no pass ran) leaves too much to read live: the caller groups it all
    if len(runs) > MAX_RUNS or sum((min(e, now) - s for s, e in ends if s < now), timedelta()) > MAX_LIVE:
        return None
    start = col(ResponseHour.hour_start)
    stmt = select(
        ResponseHour.hour_start, ResponseHour.platform, ResponseHour.posts, ResponseHour.answered, ResponseHour.minutes
    ).where(start >= first, start < through)
    if platforms is not None:
        stmt = stmt.where(col(ResponseHour.platform).in_(platforms))
    if languages is not None:
        stmt = stmt.where(col(ResponseHour.language).in_(languages))
    if prompt_only:
        stmt = stmt.where(col(ResponseHour.prompt))
    hours = []
    for hour, platform, posts, answered, minutes in session.exec(stmt):  # type: ignore[call-overload]
        hour = as_utc(hour)
        if hour not in dirty:
            hours.append(Hour(hour, platform, posts, answered, np.frombuffer(minutes or b"", dtype=FLOATS)))
    return Cover(hours=hours, live=ends)


def _pack(listed: str | None) -> bytes | None:
    """FRTs as text (every digit a double needs) as the bytes `minutes` stores: read back without parsing."""
    return None if listed is None else np.array([float(m) for m in listed.split(",")], dtype=FLOATS).tobytes()


def _moment(value: Any) -> datetime:
    """A stored time as the database hands back an aggregate of it (SQLite: its text)."""
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def _dirty(session: Session, first: datetime, through: datetime) -> set[datetime]:
    """The hours in [first, through) whose rows may be out of date: marked here, or holding a post marked dirty."""
    marked = session.exec(
        select(ResponseHourDirty.hour_start).where(
            col(ResponseHourDirty.hour_start) >= first, col(ResponseHourDirty.hour_start) < through
        )
    )
    # driven from the dirty posts (few), each looked up by its id: a join had SQLite walk the period's posts
    posts = session.exec(select(Post.created_at).where(col(Post.id).in_(select(ResponseDirty.post_id))))
    hours = {hour_counts.floor_hour(t) for t in posts}
    return {as_utc(h) for h in marked} | {h for h in hours if first <= h < through}


def _whole_hours(tz: ZoneInfo, first: datetime, through: datetime) -> bool:
    """Whether every UTC hour in [first, through) is one whole local hour of `tz` (one day, weekday and hour)."""
    last = timedelta(microseconds=1)
    for h in _steps(first, through, HOUR):
        start, end = h.astimezone(tz), (h + HOUR - last).astimezone(tz)
        if start.minute or start.second or (start.date(), start.hour) != (end.date(), end.hour):
            return False
    return True


def _runs(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted hour starts as [start, end) runs of consecutive hours."""
    runs: list[tuple[datetime, datetime]] = []
    for h in hours:
        if runs and runs[-1][1] == h:
            runs[-1] = (runs[-1][0], h + HOUR)
        else:
            runs.append((h, h + HOUR))
    return runs


def _steps(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    out, moment = [], start
    while moment < end:
        out.append(moment)
        moment += step
    return out


def _ceil_hour(moment: datetime) -> datetime:
    floor = hour_counts.floor_hour(moment)
    return floor if floor == as_utc(moment) else floor + HOUR
