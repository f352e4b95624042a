"""Alerts: what the team must hear about now, raised once each (beside the SLA clock, as DESIGN.md places them).

Three detectors feed one table: spikes of negativity or volume (`responder.spikes`), posts that need a reply and
near or pass their first-response target unanswered, and jumps of the day's median first response against the
same weekday of the weeks before. An `Alert` row is unique per (kind, key, window_key), so raising is idempotent:
a re-run, a second worker or a crash raises nothing twice. Each new alert gets one `AlertDelivery` per destination
of its brand; `responder.delivery` sends them. Posts first collected long after they were posted (a backfill, a
fresh install) raise no service-level alert: nobody could have answered what had not been seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kikimimi.models import (
    Alert,
    AlertDelivery,
    AlertKind,
    Brand,
    ListeningQuery,
    Post,
    visible,
)
from kikimimi.settings import AlertSettings, Settings
from kikimimi.timeutil import utcnow
from responder import sla
from responder.spikes import Spike, posts_behind_spike, spikes_by_slice

log = logging.getLogger(__name__)
SAME_WEEKDAYS = 4  # the weeks a day's median first response is compared with
SLOWEST_SHOWN = 20
CHUNK = 500  # keys per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


@dataclass
class FrtJump:
    """A local day whose median first response jumped against the same weekday before (or the day before)."""

    platform: str | None  # None: every platform
    day: str  # the local date, ISO
    median_minutes: float
    answered: int
    usual_minutes: float
    compared_with: str  # "same weekday" | "day before"
    post_ids: list[int] = field(default_factory=list)  # the day's slowest answered posts, slowest first


def frt_jumps(
    daily: pd.DataFrame,
    *,
    since: datetime,
    until: datetime,
    display_tz: str,
    settings: AlertSettings | None = None,
) -> list[FrtJump]:
    """Local days in [since, until) whose median first response is ≥ `frt_jump_factor` × and ≥ `frt_jump_minutes`
    slower than the median of the same weekday in the 4 weeks before (the day before, where those have too few
    answers), per platform and over all platforms. Oldest first, without their posts (`jump_posts`).
    `daily`: `sla.frt_by_day`'s rows, reaching back 4 weeks and a day before `since`."""
    cfg = settings or AlertSettings()
    if daily.empty:
        return []
    zone = ZoneInfo(display_tz)
    first_day, last_day = since.astimezone(zone).date(), until.astimezone(zone).date()
    platforms = sorted(p for p in daily["platform"].unique() if isinstance(p, str))
    jumps: list[FrtJump] = []
    for platform in [None, *platforms]:
        part = daily[daily["platform"].isna()] if platform is None else daily[daily["platform"] == platform]
        answered = dict(zip(part["day"], part["answered"], strict=True))
        enough = {
            d: float(m)
            for d, m, n in zip(part["day"], part["median_frt_minutes"], part["answered"], strict=True)
            if n >= cfg.frt_min_answered
        }
        for day, median in sorted(enough.items()):
            if not first_day <= day <= last_day:
                continue
            weeks = [enough.get(day - timedelta(days=7 * w)) for w in range(1, SAME_WEEKDAYS + 1)]
            weeks = [m for m in weeks if m is not None]
            usual, compared = (float(pd.Series(weeks).median()), "same weekday") if weeks else (None, "")
            if usual is None and (day - timedelta(days=1)) in enough:
                usual, compared = enough[day - timedelta(days=1)], "day before"
            if usual is None or median < cfg.frt_jump_factor * usual or median - usual < cfg.frt_jump_minutes:
                continue
            jumps.append(
                FrtJump(
                    platform=platform,
                    day=day.isoformat(),
                    median_minutes=round(median, 1),
                    answered=int(answered[day]),
                    usual_minutes=round(usual, 1),
                    compared_with=compared,
                )
            )
    jumps.sort(key=lambda j: (j.day, j.platform or ""))
    return jumps


def jump_window(since: datetime, until: datetime, platforms: tuple[str, ...] | None = None) -> sla.Scope:
    """The posts a jump check over [since, until) reads: those days and the 4 weeks and a day before them."""
    return sla.Scope(since=since - timedelta(days=7 * SAME_WEEKDAYS + 1), until=until, platforms=platforms)


@dataclass
class Waiting:
    """A post that needs a reply, unanswered, past `sla_warn_at` of its target (or past the target)."""

    post: Row  # the post's `sla.UNANSWERED_COLUMNS`
    minutes: float  # waited so far
    breached: bool


def waiting_posts(session: Session, settings: Settings, now: datetime | None = None) -> list[Waiting]:
    """Unanswered posts that need a reply and near or passed their first-response target, first collected within
    `sla_window_minutes` of being posted (older ones arrived by backfill: no alert) and posted in the lookback."""
    now = now or utcnow()
    cfg, target = settings.alerts, settings.service_levels.target
    warn_after, window = timedelta(minutes=target * cfg.sla_warn_at), timedelta(minutes=cfg.sla_window_minutes)
    out = []
    since = now - timedelta(hours=cfg.lookback_hours)
    near = sla.unanswered(
        session, settings, since=since, now=now, posted_before=now - warn_after, collected_within=cfg.sla_window_minutes
    )
    for post in near:
        if post.created_at > now - warn_after or post.ingested_at - post.created_at > window:
            continue  # not near its target yet; or a backfill, never the team's to answer in time
        minutes = (now - post.created_at).total_seconds() / 60
        out.append(Waiting(post=post, minutes=round(minutes, 1), breached=minutes >= target))
    return out


@dataclass
class RaiseReport:
    raised: list[Alert] = field(default_factory=list)
    continued: int = 0  # spikes that went on inside an alert already raised (the cooldown)


def raise_alerts(session: Session, settings: Settings, now: datetime | None = None) -> RaiseReport:
    """Run every detector over the lookback and store each new alert once, with its pending deliveries; commits."""
    now = now or utcnow()
    cfg = settings.alerts
    since = now - timedelta(hours=cfg.lookback_hours)
    report = RaiseReport()
    brands = {b.id: b.name for b in session.exec(select(Brand))}
    query_brand = {q.id: q.brand_id for q in session.exec(select(ListeningQuery))}
    for spike in spikes_by_slice(session, since=since, until=now, settings=cfg, with_posts=False):
        if _continue_spike(session, spike, cfg):
            report.continued += 1
            continue
        posts_behind_spike(session, spike)  # read only for a spike that becomes a new alert
        _add(session, settings, brands, report, _spike_alert(spike, query_brand.get(spike.query_id)))
    waiting = waiting_posts(session, settings, now)
    raised_before = _raised(session, [_waiting_key(w, settings) for w in waiting])
    for w in waiting:
        if _waiting_key(w, settings) not in raised_before:
            _add(session, settings, brands, report, _waiting_alert(w, settings))
    tz, window = settings.display_timezone, cfg.sla_window_minutes  # backfilled posts say nothing of staffing
    daily = sla.frt_by_day(session, jump_window(since, now), settings, tz, now=now, collected_within=window)
    for jump in frt_jumps(daily, since=since, until=now, display_tz=tz, settings=cfg):
        day = sla.Scope(*_local_day(jump.day, tz), platforms=(jump.platform,) if jump.platform else None)
        jump.post_ids = sla.slowest(session, settings, day, now=now, collected_within=window, limit=SLOWEST_SHOWN)
        _add(session, settings, brands, report, _jump_alert(jump, tz))
    return report


def _spike_key(spike: Spike) -> str:
    return f"query:{spike.query_id}" if spike.query_id is not None else "query:none"


def _continue_spike(session: Session, spike: Spike, cfg: AlertSettings) -> bool:
    """A spike that overlaps an alert of its kind and query, or follows it within the cooldown, is that same fire:
    the alert is extended (and records the slice), no new one is raised."""
    cooldown = timedelta(hours=cfg.cooldown_hours)
    # only the alerts that can still touch this spike (the rest ended more than a cooldown before its onset)
    recent = col(Alert.ongoing_until) >= spike.onset_start - cooldown
    for alert in session.exec(select(Alert).where(Alert.kind == spike.kind, Alert.key == _spike_key(spike), recent)):
        onset = datetime.fromisoformat(alert.window_key.removesuffix("Z")).replace(tzinfo=UTC)
        if onset - cooldown <= spike.ongoing_until and spike.onset_start - alert.ongoing_until <= cooldown:
            slices = list(alert.details.get("slices", []))
            changed = spike.slice_label not in slices or spike.ongoing_until > alert.ongoing_until
            if spike.slice_label not in slices:
                alert.details = {**alert.details, "slices": [*slices, spike.slice_label]}
            alert.ongoing_until = max(alert.ongoing_until, spike.ongoing_until)
            if changed:  # a spike seen again as it was costs no write (at 1M posts ~60 of them a pass)
                session.add(alert)
                session.commit()
            return True
    return False


def _spike_alert(spike: Spike, brand_id: int | None) -> Alert:
    return Alert(
        kind=spike.kind,
        key=_spike_key(spike),
        window_key=f"{spike.onset_start:%Y-%m-%dT%H:%M}Z",
        brand_id=brand_id,
        query_id=spike.query_id,
        platform=spike.platform,
        window_start=spike.window_start,
        window_end=spike.window_end,
        ongoing_until=spike.ongoing_until,
        details={
            "basis": spike.basis,
            "slice": spike.slice_label,
            "slices": [spike.slice_label],
            "language": spike.language,
            "posts": spike.posts,
            "negative": spike.negative,
            "observed": spike.observed,
            "expected": spike.expected,
            "score": spike.score,
            "phrases": spike.phrases,
        },
        post_ids=spike.post_ids,
    )


def _waiting_key(waiting: Waiting, settings: Settings) -> tuple[str, str, str]:
    """The (kind, key, window_key) a waiting post's alert is stored under."""
    kind = AlertKind.sla_breach if waiting.breached else AlertKind.sla_near
    return kind.value, f"post:{waiting.post.id}", f"{settings.service_levels.target}min"


def _raised(session: Session, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Which of these (kind, key, window_key) alerts exist already: one indexed statement per `CHUNK` keys, so a
    pass reads the alerts of the posts waiting now, not every alert raised before."""
    found: set[tuple[str, str, str]] = set()
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        rows = session.exec(
            select(Alert.kind, Alert.key, Alert.window_key).where(
                col(Alert.kind).in_(sorted({k for k, _, _ in part})),
                col(Alert.key).in_(sorted({k for _, k, _ in part})),
                col(Alert.window_key).in_(sorted({w for _, _, w in part})),
            )
        )
        found.update((str(kind), key, window_key) for kind, key, window_key in rows)
    return found


def _waiting_alert(waiting: Waiting, settings: Settings) -> Alert:
    post, target = waiting.post, settings.service_levels.target
    kind, key, window_key = _waiting_key(waiting, settings)
    due = post.created_at + timedelta(minutes=target)
    return Alert(
        kind=kind,
        key=key,
        window_key=window_key,
        brand_id=post.brand_id,
        query_id=post.query_id,
        platform=post.platform,
        window_start=post.created_at,
        window_end=due,
        ongoing_until=due,
        details={"minutes": waiting.minutes, "target": target, "url": post.url},
        post_ids=[post.id],
    )


def _local_day(day: str, display_tz: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(display_tz))
    return start, (start + timedelta(days=1, hours=1)).replace(hour=0)  # the next local midnight, even on a DST day


def _jump_alert(jump: FrtJump, display_tz: str) -> Alert:
    start, end = _local_day(jump.day, display_tz)
    return Alert(
        kind=AlertKind.frt_jump,
        key=f"platform:{jump.platform or 'all'}",
        window_key=jump.day,
        platform=jump.platform,
        window_start=start,
        window_end=end,
        ongoing_until=end,
        details={
            "day": jump.day,
            "median_minutes": jump.median_minutes,
            "usual_minutes": jump.usual_minutes,
            "answered": jump.answered,
            "compared_with": jump.compared_with,
        },
        post_ids=jump.post_ids,
    )


def _add(session: Session, settings: Settings, brands: dict, report: RaiseReport, alert: Alert) -> None:
    """Store a new alert and a pending delivery per destination, or nothing if it was raised before."""
    exists = session.exec(
        select(Alert.id).where(Alert.kind == alert.kind, Alert.key == alert.key, Alert.window_key == alert.window_key)
    ).first()
    if exists is not None:
        return
    session.add(alert)
    try:
        session.flush()
        for destination, channel in destinations_for(settings, brands.get(alert.brand_id)):
            session.add(AlertDelivery(alert_id=alert.id, destination=destination, channel=channel))
        session.commit()
    except IntegrityError:  # another worker raised it a moment ago
        session.rollback()
        return
    log.info("alert %s raised: %s %s %s", alert.id, alert.kind, alert.key, alert.window_key)
    report.raised.append(alert)


def destinations_for(settings: Settings, brand_name: str | None) -> list[tuple[str, str]]:
    """("<brand>/<destination>", channel) for a brand's destinations; an alert of no brand goes to every brand's."""
    return [
        (f"{brand.name}/{d.name}", d.kind)
        for brand in settings.brands
        if brand_name is None or brand.name == brand_name
        for d in brand.alerts
    ]


def alert_list(session: Session, *, kinds: list[str] | None = None, limit: int = 100) -> list[Alert]:
    """The newest alerts first (what the Alerts page lists)."""
    stmt = select(Alert)
    if kinds:
        stmt = stmt.where(col(Alert.kind).in_(kinds))
    return list(session.exec(stmt.order_by(col(Alert.created_at).desc(), col(Alert.id).desc()).limit(limit)))


def posts_behind(session: Session, alert: Alert, limit: int = 20) -> list[Post]:
    """The posts an alert points at that are still stored and shown, in the alert's order."""
    ids = [int(i) for i in alert.post_ids[:limit]]
    found = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(ids), visible()))}
    return [found[i] for i in ids if i in found]
