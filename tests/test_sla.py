from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from kikimimi.settings import ServiceLevels
from responder import sla

LEVELS = ServiceLevels()
T0 = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)


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


def frame(rows):
    f = pd.DataFrame(rows, columns=["post_id", "platform", "created_at", "frt_minutes", "replies", "sentiment"])
    f["created_at"] = pd.to_datetime(f["created_at"], utc=True)
    return f


def test_kpis():
    f = frame(
        [
            (1, "x", T0, 10.0, 1, "negative"),
            (2, "x", T0, 30.0, 2, "neutral"),
            (3, "reddit", T0, 300.0, 1, "neutral"),
            (4, "reddit", T0, None, 0, "negative"),  # waited past the target: abandoned
            (5, "x", T0 + timedelta(hours=5, minutes=30), None, 0, "neutral"),  # still within the target
        ]
    )
    k = sla.kpis(f, LEVELS, now=T0 + timedelta(hours=6))
    assert (k.needing_reply, k.answered) == (5, 3)
    assert k.response_rate == 0.6 and k.median_frt_minutes == 30.0 and k.mean_frt_minutes == pytest.approx(113.3)
    assert k.within_target_rate == pytest.approx(2 / 3, abs=1e-3)
    assert (k.past_target, k.abandonment_rate) == (4, 0.25)  # post 5 is still within its target: not counted
    assert k.one_touch_rate == pytest.approx(2 / 3, abs=1e-3)
    assert k.levels == {"Stellar": 1, "Above average": 1, "Average": 1, "Below average": 0, "Unacceptable": 0}


def test_daily_frt_flags_an_overnight_jump_per_platform_in_local_days():
    f = frame(
        [
            (1, "x", "2026-11-02T14:00:00Z", 3.0, 1, "neutral"),  # 23:00 JST on the 2nd
            (2, "x", "2026-11-02T16:00:00Z", 10.0, 1, "neutral"),  # 01:00 JST on the 3rd
            (3, "x", "2026-11-03T05:00:00Z", 12.0, 1, "neutral"),
            (4, "reddit", "2026-11-02T05:00:00Z", 3.0, 1, "neutral"),
            (5, "reddit", "2026-11-03T05:00:00Z", 4.0, 1, "neutral"),
        ]
    )
    assert not sla.daily_frt(f, "Asia/Tokyo")["jump"].any()  # one or two answers a day is noise
    daily = sla.daily_frt(f, "Asia/Tokyo", min_answered=1)
    rows = {(r.platform, r.day): (r.median_frt_minutes, r.jump) for r in daily.itertuples()}
    assert rows[("x", "2026-11-02")] == (3.0, False)
    assert rows[("x", "2026-11-03")] == (11.0, True)
    assert rows[("reddit", "2026-11-03")] == (4.0, False)


def test_volume_by_hour_uses_the_display_time_zone():
    volume = sla.volume_by_hour(pd.Series(pd.to_datetime(["2026-11-02T14:00:00Z"] * 3, utc=True)), "Asia/Tokyo")
    assert volume.to_dict("records") == [{"weekday": "Monday", "hour": 23, "posts": 3}]


def test_response_table_on_the_demo_data(settings):
    from kikimimi.pipeline import open_session, run_once

    run_once(settings)
    with open_session(settings) as s:
        table = sla.response_table(s)
        recovery = sla.sentiment_recovery(s, table)
    answered = table.dropna(subset=["frt_minutes"])
    assert len(answered) >= 30
    assert (answered["frt_minutes"] >= 5).all() and (answered["frt_minutes"] <= 3 * 24 * 60 + 1).all()
    assert recovery is None or 0 <= recovery <= 1
