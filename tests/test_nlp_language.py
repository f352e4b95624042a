"""Language identification on short, messy posts."""

from __future__ import annotations

import pytest

from nlp_models.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is my order?? it's been two weeks", "en"),
        ("注文したのまだ届かないんだけど…", "ja"),
        ("返品できますか", "ja"),
        ("王子！王子！王子！", "ja"),  # Han only, Japanese punctuation
        ("返品 please, the box was crushed", "en"),  # English with one Japanese word
        ("このバッグ so cute 😍 買ってよかった", "ja"),  # mixed, mostly Japanese
        ("Bonjour, où est ma commande ? Je l'attends depuis des semaines", "other"),
        ("我今天很高兴见到你们大家", "other"),
        ("", "other"),
        ("😍😍🙏", "other"),
        ("https://t.co/xY12abCd https://example.com/a?b=c", "other"),
        ("@kikistore #sale", "other"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_long_text_is_still_detected() -> None:
    assert detect_language("where is my parcel " * 600) == "en"
    assert detect_language("まだ届かない。" * 1500) == "ja"
