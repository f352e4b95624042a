"""The first-response times of the answered posts per UTC hour, platform, language and promptness (`ResponseHour`):
what the daily median FRT and the jump check read for a month of days without looking up every post again.

Each row keeps every FRT of its hour exactly, so a local day's median (and count) over its hours is the one computed
post by post; a local day is a set of whole UTC hours in every zone whose offsets are whole hours (else, and for
part-hours at the ends, the hours since the last refresh and the hours marked dirty, the posts are read live).
Dirty hours: the hours of the posts the triggers marked dirty (`responsedirty`, carried over here by each refresh
of the service-level summary before it clears them) and the hours a post left (migration 0018's triggers). The rows
depend on configuration (automatic handles, business hours, `sla_window_minutes`): a reader whose fingerprint
differs reads live. `responder.sla` computes the rows and merges the days; this module stores and finds them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
COLUMNS = ("hour_start", "platform", "language", "prompt", "answered", "minutes")

Rows = Callable[[datetime, datetime], Any]  # a SELECT of COLUMNS for the answered posts created in [since, until)
Live = Callable[[datetime, datetime], Iterable[tuple[date, str, float]]]  # (local day, platform, FRT) per post


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
        insert = sa.insert(ResponseHour).from_select(list(COLUMNS), rows(since, until))
        written += max(int(session.execute(insert.execution_options(preserve_rowcount=True)).rowcount or 0), 0)
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


def by_day(
    session: Session,
    mark: str,
    *,
    since: datetime,
    until: datetime,
    zone: str,
    platforms: tuple[str, ...] | None,
    languages: tuple[str, ...] | None,
    prompt_only: bool,
    live: Live,
) -> dict[tuple[date, str], list[float]] | None:
    """Every FRT of the answered posts created in [since, until), per (local day, platform): from the summary for
    its clean whole hours, from `live` for the rest. None when the summary cannot serve the period (missing, built
    with other settings, a zone whose days split UTC hours, too many dirty hours): the caller computes it live."""
    current = summaries.state(session, NAME)
    if current is None or current.fingerprint != mark:
        return None
    first = _ceil_hour(since)
    through = min(as_utc(current.through), hour_counts.floor_hour(until))
    tz = ZoneInfo(zone)
    if through <= first or not _whole_days(tz, first, through):
        return None
    dirty = _dirty(session, first, through)
    runs = _runs(sorted(dirty))
    if len(runs) > MAX_RUNS:
        return None
    hours = col(ResponseHour.hour_start)
    stmt = select(ResponseHour.hour_start, ResponseHour.platform, ResponseHour.minutes).where(
        hours >= first, hours < through
    )
    if platforms is not None:
        stmt = stmt.where(col(ResponseHour.platform).in_(platforms))
    if languages is not None:
        stmt = stmt.where(col(ResponseHour.language).in_(languages))
    if prompt_only:
        stmt = stmt.where(col(ResponseHour.prompt))
    out: dict[tuple[date, str], list[float]] = defaultdict(list)
    for hour, platform, minutes in session.exec(stmt):  # type: ignore[call-overload]
        hour = as_utc(hour)
        if hour not in dirty:
            out[(hour.astimezone(tz).date(), platform)].extend(map(float, minutes.split(",")))
    ends = [*([(since, first)] if since < first else []), *runs, *([(through, until)] if through < until else [])]
    for start, end in ends:
        for day, platform, frt in live(start, end):
            out[(day, platform)].append(float(frt))
    return out


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


def _whole_days(tz: ZoneInfo, first: datetime, through: datetime) -> bool:
    """Whether every UTC hour in [first, through) lies inside one local day of `tz`."""
    last = timedelta(microseconds=1)
    return all(h.astimezone(tz).date() == (h + HOUR - last).astimezone(tz).date() for h in _steps(first, through, HOUR))


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
