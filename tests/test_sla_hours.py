"""The hour summary of first responses (`responder.sla_hours`): the service-levels page's daily medians, per-platform
table and staffing hours, and the jump check's days, are exactly the same read from it as computed post by post,
whatever changed since the last refresh (inserts, edits, deletions, late brand replies, a brand handle changed)."""

from dataclasses import asdict
from datetime import timedelta

import pandas as pd
import pytest
from sqlmodel import select, update

from kikimimi.erasure import erase_author
from kikimimi.models import Analysis, Author, DraftState, Post, ReplyDraft, ResponseHour, ResponseHourDirty
from listener.store import store_page
from responder import alerts, sla, sla_facts, sla_hours
from tests.conftest import TEST_NOW
from tests.trends_support import BRAND, _post, seed

NOW = TEST_NOW
SCOPE = sla.Scope(since=NOW - timedelta(days=7), until=NOW + timedelta(hours=1))
WEEKS = alerts.jump_window(SCOPE.since, SCOPE.until)
SETTINGS = sla.Settings(brands=[BRAND])
PROMPT = SETTINGS.alerts.sla_window_minutes
PLATFORMS = ("x", "reddit", "bluesky")


def figures(session, zone: str = "Asia/Tokyo", settings: sla.Settings = SETTINGS) -> dict:
    """What the service-levels page and the jump check read, as plain values (medians unrounded)."""

    def days(frame) -> list[dict]:
        rows = [
            r | {"platform": r["platform"] if isinstance(r["platform"], str) else None}
            for r in frame.to_dict("records")
        ]
        return sorted(rows, key=lambda r: (r["day"], r["platform"] or ""))

    weeks = sla.frt_by_day(session, WEEKS, settings, zone, now=NOW)
    return {
        "kpis": asdict(sla.kpis(session, SCOPE, settings, NOW)),
        "platforms": [  # NaN is no value, and never equal to itself
            r | {"median_frt_minutes": None if pd.isna(r["median_frt_minutes"]) else r["median_frt_minutes"]}
            for r in sla.per_platform(session, SCOPE, settings, NOW).to_dict("records")
        ],
        "daily": sla.daily_frt(session, SCOPE, settings, zone, now=NOW, wider=weeks).to_dict("records"),
        "weeks": days(weeks),
        "prompt": days(sla.frt_by_day(session, WEEKS, settings, zone, now=NOW, collected_within=PROMPT)),
        "english": days(sla.frt_by_day(session, sla.Scope(WEEKS.since, WEEKS.until, None, ("en",)), settings, zone)),
        "hours": sorted(sla.volume_by_hour(session, SCOPE, settings, zone, NOW).astype(int).itertuples(index=False)),
    }


def refresh(session, settings: sla.Settings = SETTINGS) -> int:
    sla_facts.refresh(session, settings, now=NOW)
    return sla.refresh_hours(session, settings, now=NOW)


def live(session, **kw) -> dict:
    """The figures with neither summary (then both are rebuilt, as a pass would)."""
    sla_facts.clear(session)
    sla_hours.clear(session)
    out = figures(session, **kw)
    refresh(session, kw.get("settings", SETTINGS))
    return out


def busy(session, seeded) -> None:
    """Five weeks of posts that needed a reply on three platforms, answered after uneven delays (so days have odd
    and even counts), some collected promptly, a few never answered."""
    posts, replies = [], []
    for i in range(90):
        at = NOW - timedelta(hours=9 * i + 1, minutes=(i * 17) % 60)
        platform = PLATFORMS[i % 3]
        posts.append(_post(f"b{i}", platform, at, f"komorebi busy {i}", f"fan{i % 7}"))
        if i % 5 != 4:
            delay = timedelta(minutes=3 + (i * 37) % 290, seconds=i % 13)
            reply = _post(f"br{i}", platform, at + delay, "on it", "komorebi_tea", parent_external_id=f"b{i}")
            replies.append(reply.model_copy(update={"is_brand_reply": True}))
    store_page(session, [*posts, *replies], query_id=seeded.brand_query)
    session.commit()
    ids = {p.external_id: p.id for p in session.exec(select(Post).where(Post.external_id.like("b%")))}
    for i in range(90):
        language = "ja" if i % 2 else "en"
        session.add(
            Analysis(post_id=ids[f"b{i}"], language=language, sentiment="neutral", intent="q", needs_reply=True)
        )
        if f"br{i}" in ids:
            session.add(Analysis(post_id=ids[f"br{i}"], language="en", sentiment="neutral", intent="other"))
    session.commit()
    for i in range(0, 90, 2):  # collected within minutes of being posted
        post = session.get(Post, ids[f"b{i}"])
        post.ingested_at = post.created_at + timedelta(minutes=4)
        session.add(post)
    session.commit()


@pytest.fixture
def seeded(session):
    seeded = seed(session, NOW)
    busy(session, seeded)
    return seeded


def test_the_figures_from_the_hours_are_the_live_ones_and_are_what_the_page_reads(session, seeded):
    before = live(session)
    assert before["kpis"]["needing_reply"] > 20 and len(before["weeks"]) > 30 and before["prompt"]
    assert any(r["answered"] % 2 == 0 for r in before["weeks"])  # medians of even counts: a mean of two
    assert sla_hours.cover(session, sla.hours_mark(SETTINGS), since=WEEKS.since, until=WEEKS.until, zone="UTC")
    assert figures(session) == before
    assert refresh(session) == 0  # nothing changed: nothing recomputed
    # the rows are what the figures read: a row changed behind the triggers' back shows
    row = session.exec(select(ResponseHour).where(ResponseHour.hour_start >= SCOPE.since)).first()
    session.exec(update(ResponseHour).where(ResponseHour.id == row.id).values(posts=row.posts + 5))
    session.commit()
    assert sum(h.posts for h in figures(session)["hours"]) == sum(h.posts for h in before["hours"]) + 5


def test_every_change_after_a_refresh_is_read_live_until_the_next(session, seeded):
    changes_are_read_live(session, seeded)


def changes_are_read_live(session, seeded) -> None:
    before = live(session)
    assert sla_hours.cover(session, sla.hours_mark(SETTINGS), since=WEEKS.since, until=WEEKS.until, zone="UTC")
    ids = seeded.ids
    # inserted: a backfilled post in an hour already summarised
    store_page(
        session, [_post("p10", "reddit", NOW - timedelta(days=4), "komorebi where", "rio")], query_id=seeded.brand_query
    )
    session.commit()
    new_id = session.exec(select(Post.id).where(Post.external_id == "p10")).one()
    session.add(Analysis(post_id=new_id, language="en", sentiment="negative", intent="complaint", needs_reply=True))
    # a late brand reply to a post open for days, and a posted draft
    late = _post("r9", "x", NOW - timedelta(minutes=5), "sorry, late", "komorebi_tea", parent_external_id="b4")
    store_page(session, [late.model_copy(update={"is_brand_reply": True})], query_id=seeded.brand_query)
    session.add(ReplyDraft(post_id=ids["p4"], text="ok", state=DraftState.posted, posted_at=NOW - timedelta(days=1)))
    # edited: one post moved to another hour, one no longer needing a reply, one deleted on its platform
    moved = session.exec(select(Post).where(Post.external_id == "b7")).one()
    session.exec(update(Post).where(Post.id == moved.id).values(created_at=moved.created_at - timedelta(hours=5)))
    session.exec(update(Analysis).where(Analysis.post_id == ids["p2"]).values(needs_reply=False))
    session.exec(update(Post).where(Post.external_id == "b9").values(deleted_at=NOW - timedelta(hours=1)))
    session.commit()
    # deleted: an author's posts erased; the brand's x account renamed to its bot's handle (no response any more)
    erase_author(session, "x", "fan3", actor="test", now=NOW)
    session.exec(update(Author).where(Author.handle == "komorebi_tea").values(handle="komorebi_bot"))
    session.commit()
    assert session.exec(select(ResponseHourDirty)).all()  # the hours the deleted and moved posts left
    changed = figures(session)
    assert changed != before and changed["kpis"]["needing_reply"] != before["kpis"]["needing_reply"]
    sla_facts.refresh(session, SETTINGS, now=NOW)  # carries its dirty posts' hours over
    assert figures(session) == changed
    assert sla.refresh_hours(session, SETTINGS, now=NOW) > 0
    assert session.exec(select(ResponseHourDirty)).all() == []
    assert figures(session) == changed
    assert changed == live(session)


def test_zones_settings_and_stale_summaries_fall_back_to_the_live_figures(session, seeded):
    refresh(session)
    for zone in ("Asia/Kolkata", "America/New_York", "UTC"):  # half-hour offsets read live; DST days are hours
        assert figures(session, zone=zone) == live(session, zone=zone)
    mark = sla.hours_mark(SETTINGS)
    kolkata = sla_hours.cover(session, mark, since=SCOPE.since, until=SCOPE.until, zone="Asia/Kolkata")
    assert kolkata is None
    later = SETTINGS.model_copy(update={"alerts": SETTINGS.alerts.model_copy(update={"sla_window_minutes": 30})})
    assert sla.hours_mark(later) != mark
    assert figures(session, settings=later) == live(session, settings=later)


@pytest.mark.integration
def test_the_hour_summary_on_postgresql(session):
    from tests.postgres_server import postgres_session

    with postgres_session() as pg:
        seeded = seed(pg, NOW)
        busy(pg, seeded)
        expected = figures(pg)
        refresh(pg)
        assert figures(pg) == expected
        changes_are_read_live(pg, seeded)
