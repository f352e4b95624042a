"""Service levels: first-response time against the ladder, per platform and day, and the support KPIs."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.auth import require_user
from dashboard.state import session, settings
from responder import sla

require_user()
st.title("Service levels")
cfg = settings()
levels = cfg.service_levels
with session() as s:
    frame = sla.response_table(s)
    recovery = sla.sentiment_recovery(s, frame)
if frame.empty:
    st.info("No posts needing a reply yet: run `kikimimi run --once`.")
    st.stop()
k = sla.kpis(frame, levels)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def minutes(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


c = st.columns(4)
c[0].metric("Median first response", minutes(k.median_frt_minutes), help=f"target ≤ {levels.target} min")
c[1].metric("Response rate", pct(k.response_rate), help=f"{k.answered} of {k.needing_reply} posts needing a reply")
c[2].metric("Within target", pct(k.within_target_rate))
c[3].metric(
    "Abandoned",
    pct(k.abandonment_rate),
    help=f"of the {k.past_target} posts older than the {levels.target}-minute target, those with no reply",
)
c = st.columns(4)
c[0].metric("Average first response", minutes(k.mean_frt_minutes))
c[1].metric("One-touch", pct(k.one_touch_rate), help="answered with a single reply")
c[2].metric("Sentiment recovery", pct(recovery), help="negative posts answered whose author's next post was better")

st.subheader("Service ladder")
st.caption(
    f"Stellar ≤ {levels.stellar} min · Above average ≤ {levels.above_average / 60:g} h · "
    f"Average ≤ {levels.average / 60:g} h · Below average ≤ {levels.below_average / 60:g} h · "
    "Unacceptable beyond"
)
ladder = pd.DataFrame({"level": list(k.levels), "posts": list(k.levels.values())})
st.altair_chart(
    alt.Chart(ladder).mark_bar().encode(x=alt.X("level:N", sort=list(sla.LEVELS), title=None), y="posts:Q"),
    width="stretch",
)

st.subheader("Median first response per platform and day")
daily = sla.daily_frt(frame, cfg.display_timezone)
jumps = daily[daily["jump"]]
if not jumps.empty:
    st.warning(
        "Median first response jumped overnight — check staffing:\n"
        + "\n".join(f"- {j.platform}: {minutes(j.median_frt_minutes)} on {j.day}" for j in jumps.itertuples())
    )
st.altair_chart(
    alt.Chart(daily)
    .mark_line(point=True)
    .encode(x="day:O", y=alt.Y("median_frt_minutes:Q", title="median FRT (min)"), color="platform:N"),
    width="stretch",
)

st.subheader("When posts arrive (staffing)")
volume = sla.volume_by_hour(frame["created_at"], cfg.display_timezone)
st.altair_chart(
    alt.Chart(volume)
    .mark_rect()
    .encode(
        x="hour:O",
        y=alt.Y("weekday:N", sort=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
        color="posts:Q",
        tooltip=["weekday", "hour", "posts"],
    ),
    width="stretch",
)
st.caption(f"Hours in {cfg.display_timezone}.")
