"""Queue priority: bounded, and ordered the way a responder would order the posts."""

from __future__ import annotations

import pytest

from nlp_models.analyzer import get_analyzer
from nlp_models.priority import priority_score


@pytest.fixture(scope="module")
def analyse():  # noqa: ANN201
    analyzer = get_analyzer("default")
    return lambda text: analyzer.analyse([text])[0]


def test_scores_are_bounded(analyse) -> None:  # noqa: ANN001
    for text in ("", "😍", "where is my order?? third time this happens, need it before Friday!!", "a" * 10_000):
        for followers in (None, 0, 10, 10**9, -5):
            for age in (0.0, 2.0, 1e6, -3.0, float("nan")):
                assert 0.0 <= priority_score(analyse(text), followers=followers, age_hours=age) <= 1.0


def test_needs_come_before_chatter(analyse) -> None:  # noqa: ANN001
    def score(text: str) -> float:
        return priority_score(analyse(text), followers=100, age_hours=1.0)

    urgent = score("記念日のために買ったのに明日までに届かないと困ります。まだ発送されてないんですか？")
    waiting = score("still waiting on my order, any update?")
    praise = score("love my new bag, thank you!")
    chatter = score("happy friday everyone")
    assert urgent > praise and waiting > praise and waiting > chatter


def test_reach_and_age_raise_the_same_post(analyse) -> None:  # noqa: ANN001
    analysis = analyse("my refund still hasn't arrived")
    base = priority_score(analysis, followers=10, age_hours=0.5)
    assert priority_score(analysis, followers=50_000, age_hours=0.5) > base
    assert priority_score(analysis, followers=10, age_hours=20) > base
