"""What the trends and service-level pages hand out: their tables as CSV, figures written for people (durations
in minutes up to two hours, hours beyond), and a weekly summary in Markdown in the reader's language.

Plain functions (no Streamlit), so the download buttons' contents are tested on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlmodel import Session

from dashboard import trends_data as td
from dashboard.i18n import translator, when
from kikimimi.db import get_engine
from kikimimi.settings import Settings
from responder import sla

TWO_HOURS = 120


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV that spreadsheet programs open with its Japanese intact (UTF-8 with a byte-order mark)."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def duration(minutes: float | None, locale: str | None = "en") -> str:
    """A first-response time: minutes up to two hours, hours past them."""
    t = translator(locale)
    if minutes is None or pd.isna(minutes):
        return "—"
    if minutes < TWO_HOURS:
        return t("{minutes} min").format(minutes=f"{minutes:.0f}")
    return t("{hours} h").format(hours=f"{minutes / 60:.1f}")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def weekly_summary_later(settings: Settings, zone: str, locale: str | None, now: datetime) -> Callable[[], str]:
    """`weekly_summary`, written only when it is asked for (a download button's data, run on the click in a
    session of its own): a page does not count the week again on every render."""

    def write() -> str:
        with Session(get_engine(settings.database_url)) as session:
            return weekly_summary(session, settings, zone, locale, now)

    return write


def weekly_summary(session: Session, settings: Settings, zone: str, locale: str | None, now: datetime) -> str:
    """The last seven local days (today included) against the seven before, trends and service levels, as
    Markdown in the reader's language."""
    t = translator(locale)
    last = local_today(now, zone)
    first = last - timedelta(days=6)
    week = td.period(first, last, zone)
    current, previous = td.daily(session, week), td.daily(session, week.previous())
    now_totals, before_totals = td.totals(current), td.totals(previous)
    scope = sla.Scope(since=week.since, until=week.until)
    k = sla.kpis(session, scope, settings, now)
    target = duration(settings.service_levels.target, locale)
    lines = [
        "# " + t("Weekly summary: {first} – {last}").format(first=first.isoformat(), last=last.isoformat()),
        "",
        t("Days are in {zone}; brand replies and spam are left out.").format(zone=zone),
        "",
        "## " + t("Trends"),
        "",
        "- "
        + t("Posts: {posts} (the week before: {before})").format(posts=now_totals.posts, before=before_totals.posts),
        "- "
        + t("Negative share: {share} (the week before: {before})").format(
            share=pct(now_totals.negative_share), before=pct(before_totals.negative_share)
        ),
    ]
    for spike in td.negative_spikes(session, week, settings.alerts):
        lines.append(
            "- "
            + t("Negative spike {start} – {end}: {negative} of {posts} posts negative (usually {usual}).").format(
                start=when(spike.window_start, zone, locale),
                end=when(spike.window_end, zone, locale),
                negative=spike.negative,
                posts=spike.posts,
                usual=f"{spike.expected:.0%}",
            )
        )
    table = td.comparison(current, previous)
    lines += ["", "| " + " | ".join([t("Platform"), t("Posts"), t("Week before"), t("Negative share")]) + " |"]
    lines.append("| --- | ---: | ---: | ---: |")
    for row in table.itertuples():
        name = t("all platforms") if row.platform == "all" else row.platform
        lines.append(f"| {name} | {row.posts} | {row.posts_before} | {pct(row.negative_share)} |")
    lines += [
        "",
        "## " + t("Service levels"),
        "",
        "- "
        + t("{answered} of {needing} posts that needed a reply got one ({rate}).").format(
            answered=k.answered, needing=k.needing_reply, rate=pct(k.response_rate)
        ),
        "- "
        + t("Median first response: {median} (target: {target}).").format(
            median=duration(k.median_frt_minutes, locale), target=target
        ),
        "- "
        + t("Within the target: {within} of {answered} answered posts.").format(
            within=k.within_target, answered=k.answered
        ),
        "- "
        + t("Abandoned: {abandoned} of {past} posts older than the target.").format(
            abandoned=k.abandoned, past=k.past_target
        ),
        "",
    ]
    return "\n".join(lines)
