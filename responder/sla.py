"""The service-level clock: first-response time (FRT) and the support KPIs, per platform and per day.

Every figure is an aggregate computed in the database (`GROUP BY`, medians where the database has them) over one
population: the posts of our own brands that needed a reply and were posted in a `Scope` (a period, platforms,
languages). Only the groups cross into Python: for whole past hours, the per-hour summary of first-response times
(`responder.sla_hours`, every FRT kept exactly, so its medians are the post-by-post ones) stands in for the posts of
the daily medians, the per-platform table and the staffing hours. A response is the first of: a reply by one of the
brand's accounts that is not an automatic one (`automated_handles`), a posted draft, or a reply a person sent by
hand. With `business_hours` set for a brand, its FRT counts only the hours its team is in. Storage is UTC; days,
weekdays and hours are the reader's (`display_tz`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Row
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from kikimimi import sqltime
from kikimimi.models import Analysis, Post
from kikimimi.settings import ServiceLevels, Settings
from kikimimi.timeutil import utcnow
from responder import hour_counts, sla_facts, sla_hours

LEVELS = ("Stellar", "Above average", "Average", "Below average", "Unacceptable")
UNANSWERED_COLUMNS = ("id", "external_id", "platform", "url", "created_at", "ingested_at", "brand_id", "query_id")
MIN_REPLIES_FOR_A_MEDIAN = 3  # a median of one or two replies is noise, not a staffing signal


@dataclass(frozen=True)
class Scope:
    """Which posts that needed a reply a figure is about: posted in [since, until), on these platforms and
    in these languages (None: all)."""

    since: datetime
    until: datetime
    platforms: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None


def service_level(minutes: float | None, levels: ServiceLevels) -> str | None:
    """Place one first-response time (or an open post's wait so far) on the five-level ladder."""
    if minutes is None or pd.isna(minutes):
        return None
    for name, bound in zip(LEVELS, _bounds(levels), strict=False):
        if minutes <= bound:
            return name
    return LEVELS[-1]


def _bounds(levels: ServiceLevels) -> tuple[int, int, int, int]:
    return levels.stellar, levels.above_average, levels.average, levels.below_average


def _level_case(minutes: Any, levels: ServiceLevels) -> Any:
    return sa.case(*[(minutes <= b, name) for name, b in zip(LEVELS, _bounds(levels), strict=False)], else_=LEVELS[-1])


def _responses(
    session: Session, scope: Scope, settings: Settings, now: datetime, sentiments: tuple[str, ...] | None = None
) -> Any:
    """One row per post in scope (of these sentiments; None: all) that needed a reply: when it was posted, its first
    response, how many replies, its minutes to that response (`frt`, NULL while open) and its wait so far (`waited`:
    FRT, or age if open)."""
    name = sqltime.dialect(session)
    one = sla_facts.answers(
        session,
        settings,
        since=scope.since,
        until=scope.until,
        platforms=scope.platforms,
        languages=scope.languages,
        sentiments=sentiments,
    )
    first = sa.case(
        (one.c.brand_at.is_(None), one.c.draft_at),
        (one.c.draft_at.is_(None), one.c.brand_at),
        (one.c.brand_at <= one.c.draft_at, one.c.brand_at),
        else_=one.c.draft_at,
    )
    stmt = (
        select(
            one.c.post_id,
            one.c.platform,
            one.c.author_id,
            one.c.created_at,
            one.c.ingested_at,
            one.c.language,
            one.c.sentiment,
            one.c.brand,
            first.label("responded_at"),
            (one.c.brand_n + one.c.draft_n).label("replies"),
        )
        # a post deleted on its platform before anyone answered cannot be answered: it is no abandonment
        .where(one.c.deleted_at.is_(None) | one.c.brand_at.is_not(None) | one.c.draft_at.is_not(None))
    )
    base = stmt.subquery()
    frt = _minutes(base.c.responded_at, base.c.created_at, base.c.brand, scope, settings, name, now)
    waited = _minutes(sqltime.at(now), base.c.created_at, base.c.brand, scope, settings, name, now)
    row = select(base, frt.label("frt"), sa.case((base.c.responded_at.is_(None), waited), else_=frt).label("waited"))
    return row.cte("responses").prefix_with("MATERIALIZED")  # computed once, however often a figure reads it


def unanswered(
    session: Session,
    settings: Settings,
    *,
    since: datetime,
    now: datetime | None = None,
    posted_before: datetime | None = None,
    collected_within: float | None = None,
) -> list[Row]:
    """The posts posted since `since` that needed a reply and have no response yet, as the page counts them (an
    automatic acknowledgement is no response; a post deleted unanswered is gone), oldest first. For the alerts:
    only the columns an alert records (`UNANSWERED_COLUMNS`), not whole posts with their raw payloads.
    `posted_before` and `collected_within` (minutes from posted to first collected, give or take a minute: the
    caller decides the edge) narrow them in the database, before each one's post is read."""
    now = now or utcnow()
    # the waiting posts alone, by their partial index: not every post of the period with its response times
    waiting = sla_facts.answers(session, settings, since=since, until=now, unanswered=True)
    narrowed = []
    if posted_before is not None:
        narrowed.append(waiting.c.created_at <= posted_before)
    if collected_within is not None:
        lag = sqltime.minutes_between(waiting.c.ingested_at, waiting.c.created_at, sqltime.dialect(session))
        narrowed.append(lag <= collected_within + 1)
    stmt = (
        select(*(getattr(Post, name) for name in UNANSWERED_COLUMNS))
        .join(waiting, waiting.c.post_id == col(Post.id))
        .where(*narrowed)
        .order_by(col(Post.created_at), col(Post.id))
    )
    return list(session.exec(stmt))


def frt_by_day(
    session: Session,
    scope: Scope,
    settings: Settings,
    display_tz: str,
    *,
    now: datetime | None = None,
    collected_within: float | None = None,
) -> pd.DataFrame:
    """Median FRT and answered posts per local day (a `date`), per platform and over all platforms (platform
    None): what the jump check compares. `collected_within`: only the posts first collected within that many
    minutes of being posted (a backfill says nothing of staffing). The FRTs of whole clean hours come from the hour
    summary (`responder.sla_hours`), the rest live; where it cannot serve, the days are grouped in the database."""
    name = sqltime.dialect(session)
    found = None
    if collected_within in (None, settings.alerts.sla_window_minutes):
        found = _cover(session, scope, settings, display_tz, prompt_only=collected_within is not None)
    if found is None:
        days = _frt_days(session, scope, settings, display_tz, now, collected_within).subquery()
        median, n = sqltime.median(days.c.frt, name), func.count()
        rows: list[Any] = session.exec(  # type: ignore[call-overload]
            sa.union_all(
                select(days.c.day, days.c.platform, median, n).group_by(days.c.day, days.c.platform),
                select(days.c.day, sa.null(), median, n).group_by(days.c.day),
            )
        ).all()
    else:
        zone = ZoneInfo(display_tz)
        values: dict[tuple[date, str], list[Any]] = defaultdict(list)  # FRT arrays of hours, FRTs of posts
        for hour in found.hours:
            values[(hour.start.astimezone(zone).date(), hour.platform)].append(hour.minutes)
        for since, until in found.live:
            part = Scope(since, until, scope.platforms, scope.languages)
            stmt = _frt_days(session, part, settings, display_tz, now, collected_within)
            for day, platform, frt in session.exec(stmt):  # type: ignore[call-overload]
                values[(date.fromisoformat(str(day)[:10]), platform)].append([float(frt)])
        every: dict[date, list[Any]] = defaultdict(list)
        rows = []
        for (day, platform), parts in values.items():
            frts = np.concatenate(parts)
            if len(frts):  # an hour with posts and none answered yet adds no day
                rows.append((day, platform, sqltime.median_of(frts, name), len(frts)))
                every[day].append(frts)
        for day, parts in every.items():
            frts = np.concatenate(parts)
            rows.append((day, None, sqltime.median_of(frts, name), len(frts)))
    frame = pd.DataFrame(rows, columns=["day", "platform", "median_frt_minutes", "answered"])
    frame["day"] = [date.fromisoformat(str(d)[:10]) for d in frame["day"]]
    frame["median_frt_minutes"] = pd.to_numeric(frame["median_frt_minutes"])
    return frame


def _cover(
    session: Session,
    scope: Scope,
    settings: Settings,
    display_tz: str,
    *,
    prompt_only: bool = False,
    settled: datetime | None = None,
) -> sla_hours.Cover | None:
    """What the hour summary holds of `scope` and the ranges of it to read live (None: read it all live)."""
    return sla_hours.cover(
        session,
        hours_mark(settings),
        since=scope.since,
        until=scope.until,
        zone=display_tz,
        platforms=scope.platforms,
        languages=scope.languages,
        prompt_only=prompt_only,
        settled=settled,
    )


def _frt_days(
    session: Session,
    scope: Scope,
    settings: Settings,
    display_tz: str,
    now: datetime | None,
    collected_within: float | None,
) -> Any:
    """(local day 'YYYY-MM-DD', platform, FRT) of every answered post in scope."""
    r, answered = _answered(session, scope, settings, now, collected_within)
    clock = sqltime.LocalClock.over(display_tz, scope.since, scope.until)
    return select(clock.day(r.c.created_at, sqltime.dialect(session)).label("day"), r.c.platform, r.c.frt).where(
        *answered
    )


def hours_mark(settings: Settings) -> str:
    """What the hour summary's FRTs depend on: the automatic handles, business hours and `sla_window_minutes`."""
    hours = sorted(
        (b.name, h.time_zone, h.opens, h.closes, sorted(h.days)) for b in settings.brands if (h := b.business_hours)
    )
    marks = [sla_facts.automated(settings.brands), hours, settings.alerts.sla_window_minutes]
    return hashlib.sha1(json.dumps(marks).encode()).hexdigest()


def refresh_hours(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Bring the hour summary of FRTs up to `now` (after `sla_facts.refresh`, whose rows it reads); commits.
    Returns the rows written."""
    now = now or utcnow()
    name = sqltime.dialect(session)
    window = settings.alerts.sla_window_minutes

    def rows(since: datetime, until: datetime) -> Any:
        sqltime.prepare(session)
        r = _responses(session, Scope(since, until), settings, now)
        hour = hour_counts.hour_text(session, r.c.created_at)
        prompt = func.coalesce(sqltime.minutes_between(r.c.ingested_at, r.c.created_at, name) <= window, sa.false())
        if name == "postgresql":  # float8's text is its shortest exact form
            exact = sa.cast(sa.cast(r.c.frt, sa.Double), sa.Text)
            listed = func.string_agg(sa.case((r.c.frt.is_not(None), exact)), ",")
        else:  # '!': as many digits as it takes to read back the same double
            listed = func.group_concat(sa.case((r.c.frt.is_not(None), func.printf("%!.17g", r.c.frt))), ",")
        return select(
            func.min(r.c.created_at),
            r.c.platform,
            r.c.language,
            prompt,
            func.count(),
            func.count(r.c.responded_at),
            listed,
        ).group_by(hour, r.c.platform, r.c.language, prompt)

    return sla_hours.refresh(session, hours_mark(settings), rows, now)


def slowest(
    session: Session,
    settings: Settings,
    scope: Scope,
    *,
    now: datetime | None = None,
    collected_within: float | None = None,
    limit: int = 20,
) -> list[int]:
    """The answered posts in scope with the longest first response, slowest first (the posts behind a jump)."""
    r, answered = _answered(session, scope, settings, now, collected_within)
    stmt = select(r.c.post_id).where(*answered).order_by(r.c.frt.desc(), r.c.post_id).limit(limit)
    return [int(i) for i in session.exec(stmt)]


def _answered(
    session: Session, scope: Scope, settings: Settings, now: datetime | None, collected_within: float | None
) -> tuple[Any, list[Any]]:
    """`_responses` in scope, and the conditions that keep the answered posts (with `collected_within`, only those
    first collected within that many minutes of being posted)."""
    sqltime.prepare(session)
    name = sqltime.dialect(session)
    r = _responses(session, scope, settings, now or utcnow())
    answered = [r.c.responded_at.is_not(None)]
    if collected_within is not None:
        answered.append(sqltime.minutes_between(r.c.ingested_at, r.c.created_at, name) <= collected_within)
    return r, answered


def _minutes(later: Any, earlier: Any, brand: Any, scope: Scope, settings: Settings, name: str, now: datetime) -> Any:
    """Minutes from `earlier` to `later`: working minutes for a brand with business hours, else clock minutes."""
    plain = sqltime.minutes_between(later, earlier, name)
    branches = []
    for b in settings.brands:
        hours = b.business_hours
        if hours is None:
            continue
        clock = sqltime.LocalClock.over(hours.time_zone, scope.since - timedelta(days=1), now + timedelta(days=1))

        def worked(moment: Any, clock: sqltime.LocalClock = clock, hours: Any = hours) -> Any:
            return clock.business_minutes(moment, name, hours.opens, hours.closes, hours.days)

        branches.append((brand == b.name, worked(later) - worked(earlier)))
    return sa.case(*branches, else_=plain) if branches else plain


@dataclass
class Kpis:
    """The headline figures, each with the population it is a share of (`needing_reply`, `answered`, ...)."""

    needing_reply: int
    answered: int
    open: int
    response_rate: float | None  # of needing_reply
    median_frt_minutes: float | None  # of answered
    mean_frt_minutes: float | None
    within_target: int
    within_target_rate: float | None  # of answered
    past_target: int  # posts older than the target: the only ones that can have been abandoned
    abandoned: int
    abandonment_rate: float | None  # of past_target
    one_touch: int
    one_touch_rate: float | None  # of answered
    levels: dict[str, dict[str, int]] = field(default_factory=dict)  # level -> {"answered": n, "open": n}

    @property
    def ladder_total(self) -> int:
        return sum(v["answered"] + v["open"] for v in self.levels.values())


def kpis(session: Session, scope: Scope, settings: Settings, now: datetime | None = None) -> Kpis:
    """Headline KPIs. Abandoned: needed a reply and had none once the target time had passed.

    Abandonment is a share of the posts older than the target only: a post that arrived ten minutes ago
    cannot have been abandoned yet, so counting it would make a busy hour look like good service. The ladder
    places every post that needed a reply: answered ones by their FRT, open ones by their wait so far, so its
    counts add up to `needing_reply`.
    """
    now = now or utcnow()
    levels = settings.service_levels
    sqltime.prepare(session)
    name = sqltime.dialect(session)
    r = _responses(session, scope, settings, now)
    answered = r.c.responded_at.is_not(None)
    age = sqltime.minutes_between(sqltime.at(now), r.c.created_at, name)

    level = _level_case(r.c.waited, levels)
    placed = [count_if((level == rung) & (answered if done else ~answered)) for rung in LEVELS for done in (1, 0)]
    row = session.exec(
        select(  # type: ignore[call-overload]
            func.count(),
            count_if(answered),
            count_if(answered & (r.c.frt <= levels.target)),
            count_if(age > levels.target),
            count_if(~answered & (age > levels.target)),
            count_if(answered & (r.c.replies == 1)),
            func.avg(r.c.frt),
            sqltime.median(r.c.frt, name),
            *placed,  # the ladder, in the same pass
        )
    ).one()
    total, n_answered, within, past, abandoned, one_touch, mean, med = row[:8]
    counts = iter(row[8:])
    ladder = {rung: {"answered": int(next(counts)), "open": int(next(counts))} for rung in LEVELS}
    return Kpis(
        needing_reply=int(total),
        answered=int(n_answered),
        open=int(total) - int(n_answered),
        response_rate=_rate(n_answered, total),
        median_frt_minutes=_num(med),
        mean_frt_minutes=_num(mean),
        within_target=int(within),
        within_target_rate=_rate(within, n_answered),
        past_target=int(past),
        abandoned=int(abandoned),
        abandonment_rate=_rate(abandoned, past),
        one_touch=int(one_touch),
        one_touch_rate=_rate(one_touch, n_answered),
        levels=ladder,
    )


def per_platform(session: Session, scope: Scope, settings: Settings, now: datetime | None = None) -> pd.DataFrame:
    """The KPIs per platform, as the table the page shows and exports: whole clean hours past the target (where
    every open post is abandoned) from the hour summary, the rest live, or all grouped in the database."""
    now = now or utcnow()
    target = settings.service_levels.target
    sqltime.prepare(session)
    name = sqltime.dialect(session)
    columns = ["platform", "needed_reply", "answered", "median_frt_minutes", "within_target", "abandoned"]
    # a minute's margin: a post of an hour before this is older than the target by the stored times' precision
    found = _cover(session, scope, settings, "UTC", settled=now - timedelta(minutes=target + 1))
    if found is None:
        r = _responses(session, scope, settings, now)
        answered = r.c.responded_at.is_not(None)
        age = sqltime.minutes_between(sqltime.at(now), r.c.created_at, name)
        rows = session.exec(
            select(  # type: ignore[call-overload]
                r.c.platform,
                func.count(),
                count_if(answered),
                sqltime.median(r.c.frt, name),
                count_if(answered & (r.c.frt <= target)),
                count_if(~answered & (age > target)),
            )
            .group_by(r.c.platform)
            .order_by(r.c.platform)
        ).all()
        frame = pd.DataFrame(rows, columns=columns)
    else:
        counts: Counter[tuple[str, str]] = Counter()  # (platform, "needed" | "answered" | "abandoned") -> posts
        frts: dict[str, list[Any]] = defaultdict(list)  # platform -> FRT arrays of hours, FRTs of posts
        for hour in found.hours:
            counts[(hour.platform, "needed")] += hour.posts
            counts[(hour.platform, "answered")] += hour.answered
            counts[(hour.platform, "abandoned")] += hour.posts - hour.answered  # all past the target
            frts[hour.platform].append(hour.minutes)
        for since, until in found.live:
            r = _responses(session, Scope(since, until, scope.platforms, scope.languages), settings, now)
            answered = r.c.responded_at.is_not(None)
            late = ~answered & (sqltime.minutes_between(sqltime.at(now), r.c.created_at, name) > target)
            for platform, frt, abandoned in session.exec(select(r.c.platform, r.c.frt, sa.case((late, 1), else_=0))):  # type: ignore[call-overload]
                counts[(platform, "needed")] += 1
                counts[(platform, "abandoned")] += int(abandoned)
                if frt is not None:
                    counts[(platform, "answered")] += 1
                    frts[platform].append([float(frt)])
        rows = []
        for platform in sorted({p for p, _ in counts}):
            every = np.concatenate([[], *frts[platform]])
            rows.append(
                (
                    platform,
                    counts[(platform, "needed")],
                    counts[(platform, "answered")],
                    sqltime.median_of(every, name),
                    int(np.count_nonzero(every <= target)),
                    counts[(platform, "abandoned")],
                )
            )
        frame = pd.DataFrame(rows, columns=columns)
    frame["median_frt_minutes"] = frame["median_frt_minutes"].map(_num)
    return frame


def daily_frt(
    session: Session,
    scope: Scope,
    settings: Settings,
    display_tz: str,
    *,
    min_answered: int = MIN_REPLIES_FOR_A_MEDIAN,
    now: datetime | None = None,
    wider: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Median FRT per platform per local day (ISO date strings), with how many replies it is the median of.

    `enough` is False on a day with fewer than `min_answered` replies: the page shows such a day as too few
    to tell, never as a point of the line. (A jump against earlier weeks is `responder.alerts.frt_jumps`.)
    `wider`: `frt_by_day`'s rows over a longer span with the same platforms and no language filter (the page's
    jump-check window); for a scope of whole local days without a language filter its days are the answer,
    so the period is not grouped a second time.
    """
    days = _whole_days(scope, display_tz)
    if wider is not None and days is not None and not scope.languages:
        grouped = wider[(wider["day"] >= days[0]) & (wider["day"] < days[1])]
    else:
        grouped = frt_by_day(session, scope, settings, display_tz, now=now)
    daily = grouped[grouped["platform"].notna()].assign(day=lambda f: [d.isoformat() for d in f["day"]])
    if daily.empty:
        return pd.DataFrame(columns=["day", "platform", "median_frt_minutes", "answered", "enough"])
    daily = daily.sort_values(["platform", "day"]).reset_index(drop=True)
    daily["median_frt_minutes"] = daily["median_frt_minutes"].map(_num)
    daily["enough"] = daily["answered"] >= min_answered
    return daily


def _whole_days(scope: Scope, display_tz: str) -> tuple[date, date] | None:
    """[first, end) local days when the scope starts and ends at local midnights, else None."""
    zone = ZoneInfo(display_tz)
    first, end = scope.since.astimezone(zone), scope.until.astimezone(zone)
    if first.time() != time(0) or end.time() != time(0):
        return None
    return first.date(), end.date()


def volume_by_hour(
    session: Session, scope: Scope, settings: Settings, display_tz: str, now: datetime | None = None
) -> pd.DataFrame:
    """Posts that needed a reply by local weekday (0 = Monday) and hour, so leads can staff for the busy hours:
    whole clean hours from the hour summary, the rest live, or all grouped in the database."""
    now = now or utcnow()
    found = _cover(session, scope, settings, display_tz)
    if found is None:
        rows = session.exec(_volume(session, scope, settings, display_tz, now)).all()  # type: ignore[call-overload]
    else:
        zone, counts = ZoneInfo(display_tz), Counter[tuple[int, int]]()
        for hour in found.hours:
            local = hour.start.astimezone(zone)
            counts[(local.weekday(), local.hour)] += hour.posts
        for since, until in found.live:
            part = Scope(since, until, scope.platforms, scope.languages)
            for weekday, local_hour, posts in session.exec(_volume(session, part, settings, display_tz, now)):  # type: ignore[call-overload]
                counts[(int(weekday), int(local_hour))] += int(posts)
        rows = [(weekday, hour, posts) for (weekday, hour), posts in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["weekday", "hour", "posts"])


def _volume(session: Session, scope: Scope, settings: Settings, display_tz: str, now: datetime) -> Any:
    name = sqltime.dialect(session)
    r = _responses(session, scope, settings, now)
    weekday, hour = sqltime.LocalClock.over(display_tz, scope.since, scope.until).weekday_hour(r.c.created_at, name)
    local = select(weekday.label("weekday"), hour.label("hour")).subquery()
    return select(local.c.weekday, local.c.hour, func.count()).group_by(local.c.weekday, local.c.hour)


@dataclass
class Recovery:
    rate: float | None  # of `followed_up`
    followed_up: int  # answered negative posts whose author wrote again after the answer
    improved: int


def sentiment_recovery(session: Session, scope: Scope, settings: Settings, now: datetime | None = None) -> Recovery:
    """Among negative posts the brand answered, the share whose author's next post was not negative."""
    r = _responses(session, scope, settings, now or utcnow(), sentiments=("negative",))  # only those are followed
    later, analysis = aliased(Post), aliased(Analysis)
    next_sentiment = (
        select(analysis.sentiment)
        .join(later, col(later.id) == col(analysis.post_id))
        .where(col(later.author_id) == r.c.author_id, col(later.created_at) > r.c.responded_at)
        .where(~col(later.is_brand_reply))
        .order_by(col(later.created_at), col(later.id))
        .limit(1)
        .scalar_subquery()
    )
    followed = (  # materialised: each answered negative post's next post is looked up once, not once per figure
        select(next_sentiment.label("next"))
        .where(r.c.sentiment == "negative", r.c.responded_at.is_not(None))
        .cte("followed")
        .prefix_with("MATERIALIZED")
    )
    n, improved = session.exec(
        select(  # type: ignore[call-overload]
            func.count(followed.c.next),
            count_if(followed.c.next != "negative"),
        )
    ).one()
    return Recovery(rate=_rate(improved, n), followed_up=int(n), improved=int(improved))


def count_if(condition: Any) -> Any:
    """How many rows of a group meet `condition` (0 for an empty group)."""
    return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)


def _rate(part: int, whole: int) -> float | None:
    return round(int(part) / int(whole), 4) if whole else None


def _num(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 1)
