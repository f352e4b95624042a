"""Trends and share of voice: the post–query links, what is drafted, the figures grouped in the database (the same
on SQLite and PostgreSQL), the exports, and both pages under AppTest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from dashboard import queries, reports
from dashboard import trends_data as td
from dashboard.auth import sign_in_for_test
from kikimimi.models import Analysis, Post, PostQuery, ReplyDraft, Role, User
from kikimimi.settings import Settings
from listener.store import store_page
from responder import sla
from responder.brands import brand_for
from responder.drafting import draft_pending
from tests.conftest import TEST_NOW
from tests.trends_support import BRAND, _post, seed

NOW = TEST_NOW
PAGES = Path(__file__).parent.parent / "dashboard" / "views"
WEEK = td.period(date(2026, 11, 16), date(2026, 11, 22), "Asia/Tokyo")


@pytest.fixture
def seeded(session):
    return seed(session, NOW)


def test_a_post_matched_by_two_queries_belongs_to_both_and_only_ours_are_drafted(session, seeded):
    ids = seeded.ids
    links = {(p, q) for p, q in session.exec(select(PostQuery.post_id, PostQuery.query_id))}
    assert (ids["p8"], seeded.rival_query) in links and (ids["p8"], seeded.brand_query) in links
    assert session.get(Post, ids["p8"]).query_id == seeded.rival_query  # the competitor's query stored it first
    assert {q for p, q in links if p == ids["p7"]} == {seeded.rival_query}
    draft_pending(session, brands=[BRAND])
    drafted = set(session.exec(select(ReplyDraft.post_id)))
    assert ids["p8"] in drafted and ids["p6"] in drafted  # p8 is ours too, though a competitor query stored it
    assert brand_for(session, session.get(Post, ids["p8"])).name == BRAND.name  # and drafted in our name
    assert ids["p7"] not in drafted  # only the competitor's: collected and analysed, never drafted
    queued, total = queries.queue(session, limit=50)
    assert ids["p7"] not in {item.post.id for item in queued} and total == len(queued)


def test_storing_the_same_page_twice_links_once(session, seeded):
    before = len(session.exec(select(PostQuery)).all())
    post = _post("p1", "x", NOW - timedelta(days=3), "komorebi p1", "yui")
    assert store_page(session, [post], query_id=seeded.brand_query).duplicates == 1
    session.commit()
    assert len(session.exec(select(PostQuery)).all()) == before


def test_share_of_voice_counts_a_post_for_every_brand_it_names(session, seeded):
    voice = td.share_of_voice(session, WEEK)
    per_query = voice.groupby("query")["posts"].sum().to_dict()
    assert per_query == {"brand": 8, "Rival Tea": 2}  # p8 counts for both
    shares = td.voice_shares(voice).set_index("query")
    assert shares.loc["Rival Tea", "share"] == 0.2 and shares.loc["Rival Tea", "negative_share"] == 1.0
    assert bool(shares.loc["Rival Tea", "competitor"]) and not bool(shares.loc["brand", "competitor"])
    by_platform = td.voice_shares(voice, ("platform",))
    assert set(by_platform[by_platform["query"] == "Rival Tea"]["platform"]) == {"x"}


def test_daily_counts_our_posts_by_local_day_and_filters_narrow_them(session, seeded):
    frame = td.daily(session, WEEK)
    assert td.totals(frame).posts == 8 and td.totals(frame).negative == 3  # ours: p1, p3, p8 negative
    assert sorted(frame["day"].unique()) == ["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"]
    ja = td.daily(session, td.TrendFilter(WEEK.since, WEEK.until, WEEK.zone, languages=("ja",)))
    assert set(ja["language"]) == {"ja"} and td.totals(ja).posts == 3
    rival = td.daily(session, td.TrendFilter(WEEK.since, WEEK.until, WEEK.zone, query_ids=(seeded.rival_query,)))
    assert td.totals(rival).posts == 2
    previous = td.daily(session, WEEK.previous())
    assert previous.empty and WEEK.previous().until == WEEK.since
    table = td.comparison(frame, previous).set_index("platform")
    assert table.loc["all", "posts"] == 8 and table.loc["all", "posts_before"] == 0


def test_local_days_follow_daylight_saving_in_the_database(session):
    """New York leaves daylight saving at 06:00 UTC on 2026-11-01: SQLite must agree with the zone's rules."""
    zone = "America/New_York"
    moments = [datetime(2026, 11, 1, 3, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 48, 3)]
    moments += [datetime(2026, 11, 2, 4, 59, tzinfo=UTC), datetime(2026, 11, 2, 5, 0, tzinfo=UTC)]
    _store_analysed(session, moments)
    f = td.period(date(2026, 10, 31), date(2026, 11, 3), zone)
    got = td.daily(session, f).groupby("day")["posts"].sum().to_dict()
    want = pd.Series([m.astimezone(ZoneInfo(zone)).date().isoformat() for m in moments]).value_counts().to_dict()
    assert got == want


def _store_analysed(session: Session, moments: list[datetime]) -> None:
    store_page(session, [_post(f"d{i}", "x", m, "komorebi", f"u{i}") for i, m in enumerate(moments)])
    session.commit()
    for post_id in session.exec(select(Post.id).where(Post.id.not_in(select(Analysis.post_id)))):
        session.add(Analysis(post_id=post_id, language="en", sentiment="neutral", intent="other"))
    session.commit()


def test_exports_csv_and_a_weekly_summary_in_the_readers_language(session, seeded):
    data = reports.csv_bytes(pd.DataFrame({"platform": ["x"], "text": ["届かない"]}))
    assert data.startswith(b"\xef\xbb\xbf") and "届かない" in data.decode("utf-8-sig")
    settings = Settings(brands=[BRAND])
    english = reports.weekly_summary(session, settings, "Asia/Tokyo", "en", NOW)
    assert english.startswith("# Weekly summary: 2026-11-16 – 2026-11-22")
    assert "- Posts: 8 (the week before: 0)" in english
    assert "3 of 6 posts that needed a reply got one (50%)" in english and "Median first response: 3.0 h" in english
    japanese = reports.weekly_summary(session, settings, "Asia/Tokyo", "ja", NOW)
    # the pages hand the download button a writer, run on the click in a session of its own: the same Markdown
    url = session.get_bind().url.render_as_string(hide_password=False)
    later = reports.weekly_summary_later(Settings(brands=[BRAND], database_url=url), "Asia/Tokyo", "ja", NOW)
    assert later() == japanese
    assert (
        "# 週次サマリー：2026-11-16 – 2026-11-22" in japanese and "返信が必要だった 6 件のうち 3 件に応答" in japanese
    )
    assert (
        reports.duration(90) == "90 min"
        and reports.duration(150) == "2.5 h"
        and reports.duration(150, "ja") == "2.5 時間"
    )


def figures(session: Session) -> dict:
    """Everything both pages compute, for comparing two databases."""
    settings = Settings(brands=[BRAND])
    scope = sla.Scope(since=NOW - timedelta(days=7), until=NOW)
    out = {
        "kpis": sla.kpis(session, scope, settings, NOW),
        "recovery": sla.sentiment_recovery(session, scope, settings, NOW),
    }
    for zone in ("Asia/Tokyo", "America/New_York"):
        out[f"daily_frt {zone}"] = sla.daily_frt(session, scope, settings, zone, min_answered=1, now=NOW).to_dict(
            "records"
        )
        volume = sla.volume_by_hour(session, scope, settings, zone)
        out[f"volume {zone}"] = sorted(volume.astype(int).itertuples(index=False))
        f = td.period(date(2026, 10, 30), date(2026, 11, 22), zone)
        out[f"daily {zone}"] = td.daily(session, f).to_dict("records")
        out[f"voice {zone}"] = td.share_of_voice(session, f).to_dict("records")
    out["per_platform"] = sla.per_platform(session, scope, settings, NOW).to_dict("records")
    return out


@pytest.mark.integration
def test_postgresql_gives_the_same_figures_as_sqlite(session):
    from tests.postgres_server import postgres_session

    dst = [datetime(2026, 11, 1, 4, 0, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 30, 2)]
    seed(session, NOW)
    _store_analysed(session, dst)
    expected = figures(session)
    with postgres_session() as pg:
        seed(pg, NOW)
        _store_analysed(pg, dst)
        assert figures(pg) == expected


# --- the pages ---------------------------------------------------------------------------------------------


@pytest.fixture
def pages(session, seeded, settings, monkeypatch):
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KIKIMIMI_BRANDS", f"[{BRAND.model_dump_json()}]")  # with its automatic accounts
    viewer = User(name="vera", role=Role.viewer)
    session.add(viewer)
    session.commit()
    return viewer.id


def page(name: str, user_id: int, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60)
    sign_in_for_test(at, user_id)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_data(at: AppTest) -> list[pd.DataFrame]:
    """The data of every chart on the page, as Streamlit sent it to the browser."""
    return [
        pd.concat([pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets], ignore_index=True)
        for chart in at.get("vega_lite_chart")
    ]


def test_a_filtered_language_changes_every_chart_of_the_trends_page(pages):
    everything = page("trends", pages)
    assert everything.title[0].value == "Trends"
    assert {m.label: m.value for m in everything.metric} == {"Posts": "8", "Negative share": "38%"}
    japanese = page("trends", pages, **{"trend-languages": ["ja"]})
    assert {m.label: m.value for m in japanese.metric} == {"Posts": "3", "Negative share": "33%"}
    before, after = chart_data(everything), chart_data(japanese)
    assert len(before) >= 5 and len(after) >= 5
    # the charts, in page order: sentiment, negative share, platform, one panel per language, share of voice ×2
    assert len(before) == 7 and len(after) == 6  # the English panel is gone
    for a, b in zip(after[:3] + after[-2:], before[:3] + before[-2:], strict=True):
        assert not a.equals(b)  # every chart, the share of voice too, shows only the Japanese posts
    assert after[3].equals(before[4])  # the Japanese panel is the Japanese panel
    for frame in after:
        if "language" in frame:
            assert set(frame["language"]) == {"ja"}


def test_a_competitor_querys_posts_appear_in_share_of_voice(pages, seeded):
    at = page("trends", pages)
    voice = [f for f in chart_data(at) if "share" in f and "query" in f]
    assert voice and {"brand", "Rival Tea"} <= set(voice[0]["query"])
    options = at.multiselect(key="trend-queries").options
    assert "Rival Tea (competitor)" in options
    rival = page("trends", pages, **{"trend-queries": [seeded.rival_query]})
    assert {m.label: m.value for m in rival.metric}["Posts"] == "2"


def test_the_service_level_page_states_each_population_and_the_whole_ladder(pages):
    at = page("service_level", pages)
    captions = [c.value for c in at.caption]
    assert "3 answered of 6 posts that needed a reply" in captions  # the bot's reply to p4 is no response
    assert "2 of the 5 posts older than the 60 min target" in captions
    assert any("Target: a first response within 60 min." in c for c in captions)
    ladder = next(c for c in captions if c.startswith("Stellar: "))
    counts = [int(part.rsplit(": ", 1)[1]) for part in ladder.split(" — ")[0].split(" · ")]
    assert sum(counts) == 6 and ladder.endswith("6 in all")
    daily = next(f for f in chart_data(at) if "enough" in f)
    one_reply = daily[daily["answered"] == 1]
    assert not one_reply.empty and not one_reply["enough"].any()  # drawn as a tick, never a point of the line
    assert any("Grey ticks: days with fewer than 3 replies" in c for c in captions)


def test_both_pages_read_in_japanese(pages, session):
    reader = session.get(User, pages)
    reader.locale = "ja"
    session.add(reader)
    session.commit()
    trends = page("trends", pages)
    assert trends.title[0].value == "トレンド" and {m.label for m in trends.metric} == {"投稿", "ネガティブの割合"}
    levels = page("service_level", pages)
    assert "返信が必要だった 6 件のうち" in " ".join(c.value for c in levels.caption)
    assert "時間" in {m.label: m.value for m in levels.metric}["初回応答の中央値"]  # 3.0 時間: hours past two hours
