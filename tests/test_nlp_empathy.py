"""Empathy cues carry the exact span a reply can quote."""

from __future__ import annotations

from nlp_models.empathy import find_empathy_cues


def kinds(text: str) -> dict[str, str]:
    return {c.kind: c.span for c in find_empathy_cues(text)}


def test_japanese_occasion_and_deadline() -> None:
    cues = find_empathy_cues("記念日のために買ったのにまだ届かない。明日までに届きますか？")
    assert [(c.kind, c.span) for c in cues] == [
        ("occasion:anniversary", "記念日"),
        ("deadline", "明日までに"),
    ]
    text = "記念日のために買ったのにまだ届かない。明日までに届きますか？"
    assert all(text[c.start : c.end] == c.span for c in cues)


def test_english_cues() -> None:
    found = kinds("need it before Friday, it's a gift for my mom's birthday")
    assert found == {"deadline": "before Friday", "occasion:gift": "gift", "occasion:birthday": "birthday"}
    assert kinds("third time my order arrives damaged") == {"repeated_problem": "third time"}
    assert kinds("first order from you and the box was crushed") == {"first_purchase": "first order"}
    assert kinds("my sister's wedding is on the 14th, will it arrive by the 12th?") == {
        "occasion:wedding": "wedding",
        "deadline": "by the 12th",
    }


def test_japanese_repeat_and_first_purchase() -> None:
    cues = find_empathy_cues("初めて注文したのにまた破損してた。これで3回目")
    assert [(c.kind, c.span) for c in cues] == [
        ("first_purchase", "初めて注文"),
        ("repeated_problem", "また破損"),
        ("repeated_problem", "3回目"),
    ]
    spans = [c.span for c in find_empathy_cues("これで3回目。誕生日プレゼントなのに")]
    assert spans == ["3回目", "誕生日", "プレゼント"]


def test_no_cues_in_plain_or_odd_text() -> None:
    for text in ("I love the new collection", "最高でした！", "", "😍😍", "https://t.co/x", "a" * 10_000):
        assert find_empathy_cues(text) == []
