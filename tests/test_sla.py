"""The service-level figures, computed in the database over one stated population (tests/trends_support.py)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kikimimi.settings import BrandConfig, BusinessHours, ServiceLevels, Settings
from responder import alerts, sla
from tests.conftest import TEST_NOW
from tests.trends_support import BRAND, seed

LEVELS = ServiceLevels()
NOW = TEST_NOW
SCOPE = sla.Scope(since=NOW - timedelta(days=7), until=NOW)


@pytest.mark.parametrize(
    ("minutes", "level"),
    [
        (0, "Stellar"),
        (15, "Stellar"),
        (16, "Above average"),
        (240, "Above average"),
        (241, "Average"),
        (1440, "Average"),
        (4320, "Below average"),
        (4321, "Unacceptable"),
        (None, None),
    ],
)
def test_service_ladder(minutes, level):
    assert sla.service_level(minutes, LEVELS) == level


@pytest.fixture
def seeded(session):
    return seed(session, NOW)


def brand_settings(brand: BrandConfig = BRAND) -> Settings:
    return Settings(brands=[brand])


def test_kpis_over_the_posts_that_needed_a_reply(session, seeded):
    k = sla.kpis(session, SCOPE, brand_settings(), NOW)
    # ours: p1 (brand reply, 10 min), p2 (posted draft, 3 h), p3 (replied by hand, 30 h), p4 (only the bot
    # answered: open), p6 (30 min old), p8 (20 h old, also a competitor's); p7 is only the competitor's
    assert (k.needing_reply, k.answered, k.open) == (6, 3, 3)
    assert k.response_rate == 0.5 and k.median_frt_minutes == 180.0 and k.mean_frt_minutes == pytest.approx(663.3)
    assert (k.within_target, k.within_target_rate) == (1, pytest.approx(1 / 3, abs=1e-3))
    assert (k.past_target, k.abandoned, k.abandonment_rate) == (5, 2, 0.4)  # p6 is still within its target
    assert (k.one_touch, k.one_touch_rate) == (3, 1.0)


def test_the_ladder_places_open_posts_by_their_wait_and_sums_to_the_posts_that_needed_a_reply(session, seeded):
    k = sla.kpis(session, SCOPE, brand_settings(), NOW)
    assert k.levels == {
        "Stellar": {"answered": 1, "open": 0},
        "Above average": {"answered": 1, "open": 1},
        "Average": {"answered": 0, "open": 1},
        "Below average": {"answered": 1, "open": 1},
        "Unacceptable": {"answered": 0, "open": 0},
    }
    assert k.ladder_total == k.needing_reply == 6


def test_a_bot_reply_is_no_response_unless_the_bot_is_not_listed(session, seeded):
    unlisted = BRAND.model_copy(update={"automated_handles": {}})
    assert sla.kpis(session, SCOPE, brand_settings(unlisted), NOW).answered == 4  # p4's bot reply counts now
    assert sla.kpis(session, SCOPE, brand_settings(), NOW).answered == 3


def test_filters_narrow_the_population(session, seeded):
    reddit = sla.Scope(SCOPE.since, SCOPE.until, platforms=("reddit",))
    ja = sla.Scope(SCOPE.since, SCOPE.until, languages=("ja",))
    assert sla.kpis(session, reddit, brand_settings(), NOW).needing_reply == 2
    assert sla.kpis(session, ja, brand_settings(), NOW).needing_reply == 3
    table = sla.per_platform(session, SCOPE, brand_settings(), NOW)
    assert table.to_dict("records") == [
        {
            "platform": "reddit",
            "needed_reply": 2,
            "answered": 1,
            "median_frt_minutes": 1800.0,
            "within_target": 0,
            "abandoned": 1,
        },
        {
            "platform": "x",
            "needed_reply": 4,
            "answered": 2,
            "median_frt_minutes": 95.0,
            "within_target": 1,
            "abandoned": 1,
        },
    ]


def test_a_day_with_too_few_replies_has_no_median_to_draw(session, seeded):
    daily = sla.daily_frt(session, SCOPE, brand_settings(), "Asia/Tokyo", now=NOW)
    rows = {(r.platform, r.day): (r.median_frt_minutes, r.answered, r.enough) for r in daily.itertuples()}
    assert rows == {("x", "2026-11-19"): (95.0, 2, False), ("reddit", "2026-11-20"): (1800.0, 1, False)}
    enough = sla.daily_frt(session, SCOPE, brand_settings(), "Asia/Tokyo", min_answered=1, now=NOW)
    assert enough["enough"].all()


def test_volume_by_hour_and_recovery(session, seeded):
    volume = sla.volume_by_hour(session, SCOPE, brand_settings(), "Asia/Tokyo")
    assert int(volume["posts"].sum()) == 6
    thursday = volume[volume["weekday"] == 3].set_index("hour")["posts"]  # 2026-11-19 (JST) was a Thursday
    assert thursday.to_dict() == {21: 1, 22: 1}  # p1 at 21:00 JST, p2 an hour later
    recovery = sla.sentiment_recovery(session, SCOPE, brand_settings(), NOW)
    assert (recovery.followed_up, recovery.improved, recovery.rate) == (1, 1, 1.0)  # p3's author wrote p9, neutral


def test_business_hours_count_only_the_hours_the_team_is_in(session):
    from sqlmodel import select

    from kikimimi.models import Analysis, DraftState, Post, ReplyDraft
    from listener.runner import ensure_target
    from listener.store import store_page
    from tests.trends_support import _post

    hours = BusinessHours(opens=9, closes=18, days=[0, 1, 2, 3, 4], time_zone="Asia/Tokyo")
    brand = BRAND.model_copy(update={"business_hours": hours})
    target = ensure_target(session, brand, brand.queries[0])
    friday_5pm = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 17:00 JST, Friday
    store_page(
        session, [_post("f1", "x", friday_5pm, "komorebi?", "yui")], brand_id=target.brand_id, query_id=target.query_id
    )
    post_id = session.exec(select(Post.id)).one()
    session.add(Analysis(post_id=post_id, language="ja", sentiment="neutral", intent="other", needs_reply=True))
    monday_10am = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 10:00 JST, Monday
    session.add(ReplyDraft(post_id=post_id, text="ok", state=DraftState.posted, posted_at=monday_10am))
    session.commit()
    scope = sla.Scope(since=friday_5pm - timedelta(days=1), until=monday_10am)
    later = monday_10am + timedelta(hours=1)
    assert sla.kpis(session, scope, brand_settings(brand), later).median_frt_minutes == 120.0  # 17-18 Fri, 9-10 Mon
    assert sla.kpis(session, scope, brand_settings(), later).median_frt_minutes == 65 * 60.0  # the clock's hours


def test_the_page_reads_its_daily_medians_from_the_jump_windows_rows(session, seeded):
    zone = ZoneInfo("Asia/Tokyo")
    whole_days = sla.Scope(  # what the page asks for: local midnights, no language filter
        since=datetime(2026, 11, 15, tzinfo=zone).astimezone(UTC),
        until=datetime(2026, 11, 23, tzinfo=zone).astimezone(UTC),
    )
    weeks = sla.frt_by_day(
        session, alerts.jump_window(whole_days.since, whole_days.until), brand_settings(), "Asia/Tokyo", now=NOW
    )
    # the same figures whether the period is grouped alone or read from the wider rows; a scope that is not whole
    # local days, or filters languages, is grouped alone
    for scope in (whole_days, SCOPE, sla.Scope(whole_days.since, whole_days.until, languages=("ja",))):
        alone = sla.daily_frt(session, scope, brand_settings(), "Asia/Tokyo", min_answered=1, now=NOW)
        reused = sla.daily_frt(session, scope, brand_settings(), "Asia/Tokyo", min_answered=1, now=NOW, wider=weeks)
        assert reused.to_dict("records") == alone.to_dict("records")
        assert scope.languages or len(alone) >= 2  # the seeded days are in every scope without a language filter
