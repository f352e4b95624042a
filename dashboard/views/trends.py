"""Trends: volume and sentiment over time, per platform and language, with negative spikes called out."""

import altair as alt
import streamlit as st

from dashboard import queries
from dashboard.auth import require_user
from dashboard.state import session, settings

require_user()
st.title("Trends")
tz = settings().display_timezone
with session() as s:
    trends = queries.daily_trends(s, tz)
    budget_note = queries.read_budget_line(s, settings())
if budget_note:
    st.warning(budget_note, icon="⏸️")  # a chart whose collection stopped must say so
st.caption(f"Days are in {tz}; brand replies and spam are left out.")
if trends.empty:
    st.info("No analysed posts yet: run `kikimimi run --once`.")
    st.stop()
platforms = st.multiselect("Platform", sorted(trends["platform"].unique()), key="trend_platforms")
view = trends[trends["platform"].isin(platforms)] if platforms else trends
spikes = queries.negative_spikes(view)
for spike in spikes.itertuples():
    st.warning(
        f"Negative spike on {spike.day}: {spike.negative_posts} negative posts (a typical day has "
        f"{spike.typical_day:g})."
    )
colors = alt.Scale(domain=["negative", "neutral", "positive"], range=["#d62728", "#bbbbbb", "#2ca02c"])
st.subheader("Posts per day by sentiment")
st.altair_chart(
    alt.Chart(view)
    .mark_bar()
    .encode(
        x=alt.X("day:O", title="day"),
        y=alt.Y("sum(posts):Q", title="posts"),
        color=alt.Color("sentiment:N", scale=colors),
        tooltip=["day", "sentiment", "sum(posts)"],
    ),
    width="stretch",
)
st.subheader("Posts per day by platform")
st.altair_chart(
    alt.Chart(view).mark_line(point=True).encode(x="day:O", y=alt.Y("sum(posts):Q", title="posts"), color="platform:N"),
    width="stretch",
)
st.subheader("Table")
st.dataframe(view.pivot_table(index="day", columns="sentiment", values="posts", aggfunc="sum", fill_value=0))
