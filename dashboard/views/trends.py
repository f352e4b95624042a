"""Trends: volume and sentiment over a chosen period beside the period before, per platform and language, share
of voice against competitors, and negative spikes that open to the posts behind them.

Every figure is grouped in the database (`dashboard/trends_data.py`); days are the reader's own.
"""

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import i18n, queries, reports
from dashboard import trends_data as td
from dashboard.auth import require_user
from dashboard.safe import md_text
from dashboard.state import display_timezone, session, settings
from kikimimi.timeutil import utcnow

user = require_user()
tz = display_timezone(user)
t = i18n.translator(user.locale)
st.title(t("Trends"))
today = reports.local_today(utcnow(), tz)

top = st.columns([1.2, 1, 1, 1.4])
preset = top[0].selectbox(
    t("Period"),
    [*td.PRESETS, 0],
    index=1,
    format_func=lambda days: t("Last {days} days").format(days=days) if days else t("Custom dates"),
    key="trend-period",
)
first, last = td.default_range(today, preset or 14)
if not preset:
    chosen = top[0].date_input(t("From – to"), value=(first, last), max_value=today, key="trend-dates")
    if isinstance(chosen, tuple | list) and len(chosen) == 2:
        first, last = chosen
unfiltered = td.period(first, last, tz)
with session() as s:
    listened = td.queries_listened(s)
    everything = td.daily(s, unfiltered)  # the language filter's options, and the charts when nothing is filtered
languages_seen = sorted(everything["language"].unique())
languages = top[1].multiselect(t("Language"), languages_seen, key="trend-languages")
platforms = top[2].multiselect(t("Platform"), list(td.PLATFORMS), key="trend-platforms")
names = {int(r.id): (f"{r.name} ({t('competitor')})" if r.competitor else r.name) for r in listened.itertuples()}
chosen_queries = top[3].multiselect(
    t("Brand query"), list(names), format_func=lambda i: names.get(i, str(i)), key="trend-queries"
)
f = td.period(
    first,
    last,
    tz,
    languages=tuple(languages) or None,
    platforms=tuple(platforms) or None,
    query_ids=tuple(chosen_queries) or None,
)
before = f.previous()
with session() as s:
    current = everything if f == unfiltered else td.daily(s, f)
    previous = td.daily(s, before)
    voice = td.share_of_voice(s, f)
    budget_note = queries.read_budget_line(s, settings())
if budget_note:
    st.warning(budget_note, icon="⏸️")  # a chart whose collection stopped must say so
length = (last - first).days + 1
st.caption(
    t("{first} – {last} ({days} days) beside the {days} days before ({before_first} – {before_last}).").format(
        first=first,
        last=last,
        days=length,
        before_first=first - timedelta(days=length),
        before_last=first - timedelta(days=1),
    )
    + " "
    + t("Days are in {zone}; brand replies and spam are left out.").format(zone=tz)
    + ("" if chosen_queries else " " + t("Our own brands' posts; pick a brand query to see a competitor's."))
)
now_totals, before_totals = td.totals(current), td.totals(previous)
tiles = st.columns(4)
tiles[0].metric(
    t("Posts"), now_totals.posts, delta=now_totals.posts - before_totals.posts, help=t("against the period before")
)
share_now, share_before = now_totals.negative_share, before_totals.negative_share
tiles[1].metric(
    t("Negative share"),
    reports.pct(share_now),
    delta=None if share_now is None or share_before is None else f"{(share_now - share_before) * 100:+.1f} pt",
    delta_color="inverse",
    help=t("of {posts} posts in the period").format(posts=now_totals.posts),
)
tiles[2].download_button(
    t("Download the daily table (CSV)"),
    reports.csv_bytes(current),
    f"trends-{first}-{last}.csv",
    "text/csv",
    key="trend-csv",
)
tiles[3].download_button(
    t("Download the weekly summary (Markdown)"),
    reports.weekly_summary_later(settings(), tz, user.locale, utcnow()),
    f"weekly-summary-{today}.md",
    "text/markdown",
    key="trend-md",
)
if current.empty:
    st.info(t("No analysed posts in this period: run `kikimimi run --once`, or widen the period or the filters."))
    st.stop()

with session() as s:
    spikes = td.negative_spikes(s, f, settings().alerts)
for spike in spikes:
    heading = t("Negative spike {start} – {end}: {negative} of {posts} posts negative (usually {usual}).").format(
        start=i18n.when(spike.window_start, tz, user.locale),
        end=i18n.when(spike.window_end, tz, user.locale),
        negative=spike.negative,
        posts=spike.posts,
        usual=f"{spike.expected:.0%}",
    )
    with st.expander("⚠️ " + heading):
        if spike.phrases:
            st.markdown(t("Top phrases: {phrases}").format(phrases=" · ".join(md_text(p) for p in spike.phrases)))
        with session() as s:
            posts = td.spike_posts(s, spike)
        for created_at, platform, language, text, url in posts:
            link = f" · [{t('open')}]({url})" if url else ""
            st.markdown(
                f"**{i18n.when(created_at, tz, user.locale)}** · {platform} · {language}{link}  \n{md_text(text)}"
            )

sentiment_scale = alt.Scale(domain=list(td.SENTIMENTS), range=list(td.SENTIMENT_COLOURS))
platform_scale = alt.Scale(domain=list(td.PLATFORMS), range=list(td.PLATFORM_COLOURS))
day_axis = alt.X("day:T", title=t("day"), axis=alt.Axis(format="%m-%d", tickCount="day"))  # one tick a day at most


def sentiment_bars(frame: pd.DataFrame) -> alt.Chart:
    """Posts per day, stacked by sentiment: the whole period, and each language's panel."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=day_axis,
            y=alt.Y("sum(posts):Q", title=t("posts")),
            color=alt.Color("sentiment:N", scale=sentiment_scale, title=t("sentiment")),
            tooltip=[
                alt.Tooltip("day:T", format="%Y-%m-%d"),
                "sentiment:N",
                alt.Tooltip("sum(posts):Q", title=t("posts")),
            ],
        )
    )


st.subheader(t("Posts per day by sentiment"))
st.altair_chart(sentiment_bars(current), width="stretch")

st.subheader(t("Negative share per day, this period and the one before"))
this_period, period_before = t("this period"), t("the period before")
share = td.negative_share(current).assign(period=this_period)
earlier = td.negative_share(previous)
if not earlier.empty:  # drawn over the days it precedes, so the two periods line up
    earlier["day"] = [(date.fromisoformat(d) + timedelta(days=length)).isoformat() for d in earlier["day"]]
    share = pd.concat([share, earlier.assign(period=period_before)], ignore_index=True)
st.altair_chart(
    alt.Chart(share)
    .mark_line(point=True)
    .encode(
        x=day_axis,
        y=alt.Y("negative_share:Q", title=t("negative share"), axis=alt.Axis(format="%")),
        color=alt.Color(
            "period:N", scale=alt.Scale(domain=[this_period, period_before], range=["#333333", "#aaaaaa"]), title=None
        ),
        strokeDash=alt.StrokeDash(
            "period:N", scale=alt.Scale(domain=[this_period, period_before], range=[[1, 0], [4, 3]]), legend=None
        ),
        tooltip=[
            alt.Tooltip("day:T", format="%Y-%m-%d"),
            "period:N",
            alt.Tooltip("negative_share:Q", format=".0%"),
            "posts:Q",
        ],
    ),
    width="stretch",
)

st.subheader(t("Posts per day by platform"))
st.altair_chart(
    alt.Chart(current)
    .mark_line(point=True)
    .encode(
        x=day_axis,
        y=alt.Y("sum(posts):Q", title=t("posts")),
        color=alt.Color("platform:N", scale=platform_scale, title=t("platform")),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), "platform:N", alt.Tooltip("sum(posts):Q", title=t("posts"))],
    ),
    width="stretch",
)

st.subheader(t("Per language"))
shown_languages = sorted(current["language"].unique())
for column, language in zip(st.columns(max(1, len(shown_languages))), shown_languages, strict=False):
    panel = current[current["language"] == language]
    column.markdown(f"**{language}** · " + t("{posts} posts").format(posts=int(panel["posts"].sum())))
    column.altair_chart(sentiment_bars(panel), width="stretch")

st.subheader(t("Share of voice"))
if voice.empty:
    st.info(t("No listening query matched a post in this period."))
else:
    splits = {"platform": t("platform"), "language": t("language")}
    split = st.radio(t("Split by"), list(splits), format_func=splits.get, horizontal=True, key="trend-voice-split")
    shares = td.voice_shares(voice, (split,))
    left, right = st.columns(2)
    left.altair_chart(
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X(f"{split}:N", title=splits[split]),
            y=alt.Y("share:Q", title=t("share of mentions"), axis=alt.Axis(format="%"), stack="normalize"),
            color=alt.Color("query:N", title=t("brand query"), scale=alt.Scale(range=list(td.QUERY_COLOURS))),
            tooltip=["query:N", f"{split}:N", "posts:Q", alt.Tooltip("share:Q", format=".0%")],
        ),
        width="stretch",
    )
    right.altair_chart(
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X("query:N", title=t("brand query")),
            xOffset=f"{split}:N",
            y=alt.Y("negative_share:Q", title=t("negative share"), axis=alt.Axis(format="%")),
            color=alt.Color(
                f"{split}:N", title=splits[split], scale=platform_scale if split == "platform" else alt.Undefined
            ),
            tooltip=["query:N", f"{split}:N", "posts:Q", alt.Tooltip("negative_share:Q", format=".0%")],
        ),
        width="stretch",
    )
    st.download_button(
        t("Download share of voice (CSV)"),
        reports.csv_bytes(shares),
        f"share-of-voice-{first}-{last}.csv",
        "text/csv",
        key="voice-csv",
    )

st.subheader(t("This period beside the one before"))
comparison = td.comparison(current, previous)
st.dataframe(comparison, hide_index=True)
st.download_button(
    t("Download this table (CSV)"),
    reports.csv_bytes(comparison),
    f"trends-comparison-{first}-{last}.csv",
    "text/csv",
    key="comparison-csv",
)
