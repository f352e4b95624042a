"""Service levels: first-response time against the ladder and the target, per platform and day, and the support
KPIs, each tile stating the posts it is a share of. Every figure is an aggregate from `responder/sla.py`."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import i18n, reports
from dashboard import trends_data as td
from dashboard.auth import require_user
from dashboard.state import display_timezone, session, settings
from kikimimi.timeutil import utcnow
from responder import alerts, sla


def _(message: str) -> str:
    return message  # marks a string for the catalogue; it is translated where it is shown, with t()


LEVEL_NAMES = [_("Stellar"), _("Above average"), _("Average"), _("Below average"), _("Unacceptable")]
WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]

user = require_user()
tz = display_timezone(user)
t = i18n.translator(user.locale)
cfg = settings()
levels = cfg.service_levels
now = utcnow()
st.title(t("Service levels"))
today = reports.local_today(now, tz)
top = st.columns(3)
days = top[0].selectbox(
    t("Period"), list(td.PRESETS), index=1, format_func=lambda d: t("Last {days} days").format(days=d), key="sla-period"
)
platforms = top[1].multiselect(t("Platform"), list(td.PLATFORMS), key="sla-platforms")
languages = top[2].multiselect(t("Language"), ["ja", "en", "other"], key="sla-languages")
first, last = td.default_range(today, days)
window = td.period(first, last, tz)
scope = sla.Scope(
    since=window.since, until=window.until, platforms=tuple(platforms) or None, languages=tuple(languages) or None
)
with session() as s:
    k = sla.kpis(s, scope, cfg, now)
    recovery = sla.sentiment_recovery(s, scope, cfg, now)
    table = sla.per_platform(s, scope, cfg, now)
    # the staffing warning is the alerts' own jump detection: the day against the same weekday of earlier weeks
    weeks = sla.frt_by_day(s, alerts.jump_window(scope.since, scope.until, scope.platforms), cfg, tz, now=now)
    daily = sla.daily_frt(s, scope, cfg, tz, now=now, wider=weeks)
    jumps = alerts.frt_jumps(weeks, since=scope.since, until=scope.until, display_tz=tz, settings=cfg.alerts)
    volume = sla.volume_by_hour(s, scope, cfg, tz, now)
target = reports.duration(levels.target, user.locale)
st.caption(
    t("Posts of our own brands that needed a reply, posted {first} – {last} ({zone}).").format(
        first=first, last=last, zone=tz
    )
    + " "
    + t("Target: a first response within {target}.").format(target=target)
)
if not k.needing_reply:
    st.info(t("No posts needing a reply in this period: run `kikimimi run --once`, or widen the period."))
    st.stop()

of_needing = t("of {n} posts that needed a reply").format(n=k.needing_reply)
of_answered = t("of {n} answered posts").format(n=k.answered)


def tile(column, label: str, value: str, population: str, help_text: str) -> None:  # noqa: ANN001
    column.metric(label, value, help=help_text)
    column.caption(population)


c = st.columns(4)
tile(
    c[0],
    t("Response rate"),
    reports.pct(k.response_rate),
    t("{answered} answered").format(answered=k.answered) + " " + of_needing,
    t("posts that got a first response, of every post that needed one"),
)
tile(
    c[1],
    t("Median first response"),
    reports.duration(k.median_frt_minutes, user.locale),
    of_answered,
    t("half the answered posts got their first response sooner than this; target {target}").format(target=target),
)
tile(
    c[2],
    t("Within target"),
    reports.pct(k.within_target_rate),
    t("{within} answered within {target}").format(within=k.within_target, target=target) + " " + of_answered,
    t("first responses within the target"),
)
tile(
    c[3],
    t("Abandoned"),
    reports.pct(k.abandonment_rate),
    t("{abandoned} of the {past} posts older than the {target} target").format(
        abandoned=k.abandoned, past=k.past_target, target=target
    ),
    t("posts older than the target that still have no response; newer posts cannot have missed it yet"),
)
c = st.columns(4)
tile(c[0], t("Still open"), str(k.open), of_needing, t("posts that needed a reply and have none yet"))
tile(
    c[1],
    t("Average first response"),
    reports.duration(k.mean_frt_minutes, user.locale),
    of_answered,
    t("the mean: a few very late replies pull it up"),
)
tile(
    c[2],
    t("One-touch"),
    reports.pct(k.one_touch_rate),
    t("{n} answered with a single reply").format(n=k.one_touch) + " " + of_answered,
    t("answered with a single reply"),
)
tile(
    c[3],
    t("Sentiment recovery"),
    reports.pct(recovery.rate),
    t("of {n} answered negative posts whose author wrote again").format(n=recovery.followed_up),
    t("the author's next post after our response was not negative"),
)

st.subheader(t("Service ladder"))
st.caption(
    t(
        "Every one of the {n} posts that needed a reply: answered ones by their first response, "
        "open ones by how long they have waited so far."
    ).format(n=k.needing_reply)
    + " "
    + t(
        "Stellar ≤ {stellar} · Above average ≤ {above} · Average ≤ {average} · "
        "Below average ≤ {below} · Unacceptable beyond"
    ).format(
        stellar=reports.duration(levels.stellar, user.locale),
        above=reports.duration(levels.above_average, user.locale),
        average=reports.duration(levels.average, user.locale),
        below=reports.duration(levels.below_average, user.locale),
    )
)
answered_label, open_label = t("answered"), t("still open")
ladder = pd.DataFrame(
    [(t(level), answered_label, v["answered"]) for level, v in k.levels.items()]
    + [(t(level), open_label, v["open"]) for level, v in k.levels.items()],
    columns=["level", "status", "posts"],
)
st.altair_chart(
    alt.Chart(ladder)
    .mark_bar()
    .encode(
        x=alt.X("level:N", sort=[t(level) for level in sla.LEVELS], title=None),
        y=alt.Y("posts:Q", title=t("posts"), stack="zero"),
        color=alt.Color(
            "status:N", scale=alt.Scale(domain=[answered_label, open_label], range=["#4e79a7", "#e8a33d"]), title=None
        ),
        tooltip=["level:N", "status:N", "posts:Q"],
    ),
    width="stretch",
)
st.caption(
    " · ".join(f"{t(level)}: {v['answered'] + v['open']}" for level, v in k.levels.items())
    + " — "
    + t("{total} in all").format(total=k.ladder_total)
)

st.subheader(t("Median first response per platform and day"))
if jumps:
    st.warning(
        t("Median first response jumped — check staffing:")
        + "\n"
        + "\n".join(
            "- "
            + t("{platform}, {day}: {median} (usually {usual})").format(
                platform=j.platform or t("all platforms"),
                day=j.day,
                median=reports.duration(j.median_minutes, user.locale),
                usual=reports.duration(j.usual_minutes, user.locale),
            )
            for j in jumps
        )
    )
if daily.empty:
    st.info(t("No first responses in this period yet."))
else:
    in_hours = bool((daily["median_frt_minutes"].max() or 0) > reports.TWO_HOURS)
    unit = t("hours") if in_hours else t("minutes")
    shown = daily.assign(
        value=daily["median_frt_minutes"] / (60 if in_hours else 1),
        shown=daily["median_frt_minutes"].map(lambda m: reports.duration(m, user.locale)),
        # consecutive days with enough replies make one stretch of line; a thin day breaks it
        stretch=(~daily["enough"]).groupby(daily["platform"]).cumsum(),
    )
    enough, thin = shown[shown["enough"]], shown[~shown["enough"]]
    platform_scale = alt.Scale(domain=list(td.PLATFORMS), range=list(td.PLATFORM_COLOURS))
    x = alt.X("day:T", title=t("day"), axis=alt.Axis(format="%m-%d"))
    tooltip = [
        alt.Tooltip("day:T", format="%Y-%m-%d"),
        "platform:N",
        alt.Tooltip("shown:N", title=t("median")),
        alt.Tooltip("answered:Q", title=t("replies")),
    ]
    line = (
        alt.Chart(enough)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=t("median first response ({unit})").format(unit=unit)),
            color=alt.Color("platform:N", scale=platform_scale, title=t("platform")),
            detail="stretch:N",
            tooltip=tooltip,
        )
    )
    few = (
        alt.Chart(thin.assign(note=t("too few replies for a median")))
        .mark_tick(color="#9e9e9e", thickness=2, size=14, yOffset=0)
        .encode(x=x, y=alt.Y(datum=0), tooltip=[*tooltip, alt.Tooltip("note:N", title=" ")])
    )
    goal = (
        alt.Chart(pd.DataFrame({"target": [levels.target / (60 if in_hours else 1)]}))
        .mark_rule(strokeDash=[6, 4], color="#333333")
        .encode(y="target:Q", tooltip=[alt.Tooltip("target:Q", title=t("target"))])
    )
    st.altair_chart(line + few + goal, width="stretch")
    st.caption(
        t(
            "Dashed line: the target ({target}). Grey ticks: days with fewer than {n} replies, too few for a median."
        ).format(target=target, n=sla.MIN_REPLIES_FOR_A_MEDIAN)
    )

st.subheader(t("Per platform"))
platform_table = table.assign(
    median_first_response=table["median_frt_minutes"].map(lambda m: reports.duration(m, user.locale))
)
st.dataframe(platform_table.drop(columns=["median_frt_minutes"]), hide_index=True)
d = st.columns(3)
d[0].download_button(
    t("Download this table (CSV)"),
    reports.csv_bytes(table),
    f"service-levels-{first}-{last}.csv",
    "text/csv",
    key="sla-csv",
)
d[1].download_button(
    t("Download the daily medians (CSV)"),
    reports.csv_bytes(daily),
    f"first-response-daily-{first}-{last}.csv",
    "text/csv",
    key="sla-daily-csv",
)
d[2].download_button(
    t("Download the weekly summary (Markdown)"),
    reports.weekly_summary_later(cfg, tz, user.locale, now),
    f"weekly-summary-{today}.md",
    "text/markdown",
    key="sla-md",
)

st.subheader(t("When posts arrive (staffing)"))
names = [t(day) for day in WEEKDAYS]
volume = volume.assign(weekday=volume["weekday"].map(lambda i: names[int(i)]))
st.altair_chart(
    alt.Chart(volume)
    .mark_rect()
    .encode(
        x=alt.X("hour:O", title=t("hour")),
        y=alt.Y("weekday:N", sort=names, title=None),
        color=alt.Color("posts:Q", title=t("posts")),
        tooltip=["weekday:N", "hour:O", "posts:Q"],
    ),
    width="stretch",
)
st.caption(t("Hours in {zone}.").format(zone=tz))
