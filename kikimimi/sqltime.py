"""Time arithmetic inside SQL, the same on SQLite and PostgreSQL: minutes between two stored times, the reader's
local day, weekday and hour, business minutes, and the median.

So the dashboard groups by local day in the database and only the groups cross into Python. PostgreSQL converts
with the zone's own rules (`timezone(zone, t)`); SQLite knows no zones, so a `LocalClock` carries the zone's UTC
offsets over the range asked about (a daylight-saving change becomes one CASE branch), which gives SQLite the same
answers inside that range. SQLite has no percentiles: `prepare` registers a median aggregate on the connection.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from kikimimi.models import UTCDateTime

_SQLITE_EPOCH_JULIAN = 2440587.5  # julianday('1970-01-01')
_MONDAY_OFFSET = 3  # 1970-01-01 was a Thursday: days since then + 3 counts from a Monday


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def prepare(session: Session) -> None:
    """Give SQLite the `median` aggregate PostgreSQL has as `percentile_cont(0.5)` (per connection, idempotent)."""
    if dialect(session) != "sqlite":
        return
    raw = session.connection().connection.dbapi_connection
    if raw is not None:
        raw.create_aggregate("kk_median", 1, _Median)


class _Median:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def median(expr: Any, name: str) -> Any:
    """The median of `expr` over a group (NULLs left out), on the dialect `name`."""
    if name == "postgresql":
        return sa.func.percentile_cont(0.5).within_group(expr)
    return sa.func.kk_median(expr)


def median_of(values: Any, name: str) -> float | None:
    """The median of `values` (doubles) computed in Python exactly as `median` computes it on the dialect `name`."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    if not len(ordered):
        return None
    low, high = float(ordered[(len(ordered) - 1) // 2]), float(ordered[len(ordered) // 2])
    if len(ordered) % 2:
        return low
    # percentile_cont(0.5): the lower middle plus half the way to the upper one; SQLite's `kk_median` (Python's
    # statistics.median): their mean
    return low + (high - low) * 0.5 if name == "postgresql" else (low + high) / 2


def minutes_between(later: Any, earlier: Any, name: str) -> Any:
    """Minutes from `earlier` to `later` (two stored UTC times) as a float; NULL when either is NULL."""
    if name == "postgresql":
        return sa.extract("epoch", later - earlier) / 60.0
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 1440.0


def at(moment: datetime) -> Any:
    """A moment as a bound value stored the way the tables store times (for CASE branches and arithmetic)."""
    return sa.literal(moment, UTCDateTime())


@dataclass(frozen=True)
class LocalClock:
    """A time zone over [since, until): the UTC offsets in force, for dialects without zone rules."""

    zone: str
    since: datetime
    until: datetime
    # (from this UTC moment on, offset in seconds), in order; the first applies before it too
    offsets: tuple[tuple[datetime, int], ...] = field(default=())

    @classmethod
    def over(cls, zone: str, since: datetime, until: datetime) -> LocalClock:
        tz = ZoneInfo(zone)

        def offset(moment: datetime) -> int:
            return int(moment.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]

        changes = [(since, offset(since))]
        step, moment = timedelta(hours=1), since
        while moment < until:
            following = min(moment + step, until)
            if offset(following) != changes[-1][1]:
                low, high = moment, following  # the change lies in (low, high]: find its second
                while high - low > timedelta(seconds=1):
                    middle = low + (high - low) / 2
                    low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
                changes.append((high, offset(high)))
            moment = following
        return cls(zone, since, until, tuple(changes))

    def _by_offset(self, column: Any, make: Any) -> Any:
        """`make(offset_seconds)` for the offset in force at `column` (a CASE when it changes in the range)."""
        if len(self.offsets) == 1:
            return make(self.offsets[0][1])
        pairs = zip(self.offsets, self.offsets[1:], strict=False)
        branches = [(column < at(start), make(before)) for (_, before), (start, _) in pairs]
        return sa.case(*branches, else_=make(self.offsets[-1][1]))

    def local_seconds(self, column: Any, name: str) -> Any:
        """Seconds since 1970-01-01 00:00 on the local wall clock at `column` (a float)."""
        if name == "postgresql":
            return sa.extract("epoch", sa.func.timezone(self.zone, column))
        utc = (sa.func.julianday(column) - _SQLITE_EPOCH_JULIAN) * 86400.0
        return utc + self._by_offset(column, lambda seconds: sa.literal(seconds))

    def day(self, column: Any, name: str) -> Any:
        """The local calendar day of `column` as 'YYYY-MM-DD'."""
        if name == "postgresql":
            return sa.func.to_char(sa.func.timezone(self.zone, column), "YYYY-MM-DD")
        return self._by_offset(column, lambda seconds: sa.func.date(column, f"{seconds:+d} seconds"))

    def weekday_hour(self, column: Any, name: str) -> tuple[Any, Any]:
        """The local weekday (0 = Monday) and hour (0-23) of `column`, as integers."""
        if name == "postgresql":
            local = sa.func.timezone(self.zone, column)
            return (
                sa.cast(sa.extract("isodow", local), sa.Integer) - 1,
                sa.cast(sa.extract("hour", local), sa.Integer),
            )

        def part(fmt: str) -> Any:
            return self._by_offset(
                column, lambda seconds: sa.cast(sa.func.strftime(fmt, column, f"{seconds:+d} seconds"), sa.Integer)
            )

        return (part("%w") + 6) % 7, part("%H")

    def business_minutes(self, column: Any, name: str, opens: int, closes: int, days: list[int]) -> Any:
        """Working minutes from a Monday long ago to `column`: the difference of two is the working time between.

        A working day counts the minutes between `opens` and `closes` (hours, local); other days count none.
        """
        seconds = self.local_seconds(column, name)
        # floor: PostgreSQL's cast rounds; SQLite's truncates, which is the floor for times after 1970
        floored = sa.func.floor(seconds / 86400.0) if name == "postgresql" else seconds / 86400.0
        whole_days = sa.cast(floored, sa.Integer) + _MONDAY_OFFSET
        weekday, week = whole_days % 7, (whole_days - whole_days % 7) / 7
        open_minutes = (closes - opens) * 60
        minute_of_day = (seconds - (whole_days - _MONDAY_OFFSET) * 86400.0) / 60.0
        in_day = sa.case(
            (minute_of_day <= opens * 60, 0.0),
            (minute_of_day >= closes * 60, float(open_minutes)),
            else_=minute_of_day - opens * 60,
        )
        working = sorted(set(days))
        before = sa.case(*[(weekday == d, float(open_minutes * sum(k < d for k in working))) for d in range(7)])
        today = sa.case((weekday.in_(working), in_day), else_=0.0) if working else sa.literal(0.0)
        return week * float(open_minutes * len(working)) + before + today
