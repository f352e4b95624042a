"""The offline default analyzer on hand-written English and Japanese posts, odd text included."""

from __future__ import annotations

import logging

import pytest

from nlp_models.analyzer import get_analyzer
from nlp_models.default import DefaultAnalyzer
from nlp_models.types import INTENTS, LANGUAGES, SENTIMENTS, TextAnalysis


@pytest.fixture(scope="module")
def analyzer() -> DefaultAnalyzer:
    return get_analyzer("default")  # type: ignore[return-value]


def one(analyzer: DefaultAnalyzer, text: str) -> TextAnalysis:
    return analyzer.analyse([text])[0]


def test_default_is_the_measured_stack_not_the_baseline(analyzer: DefaultAnalyzer) -> None:
    assert analyzer.name == "default"
    assert get_analyzer("default") is analyzer  # cached per (backend, options)
    assert set(analyzer.versions) == {"language", "sentiment", "sentiment_other", "question", "intent", "empathy"}
    assert get_analyzer("baseline").name == "baseline"


def test_every_analysis_stores_the_stack_versions(analyzer: DefaultAnalyzer) -> None:
    # `kikimimi analyse --redo` re-runs posts whose stored versions differ from analyzer.versions.
    for result in analyzer.analyse(["where is my order", "届かない", "😍", "Bonjour, où est ma commande ?"]):
        assert result.model_versions == analyzer.versions


def test_english_posts(analyzer: DefaultAnalyzer) -> None:
    waiting = one(analyzer, "still waiting on my order from the 3rd... tracking hasn't moved in a week")
    assert (waiting.language, waiting.is_question, waiting.intent) == ("en", True, "order_status")
    praise = one(analyzer, "love love LOVE my new bag, thank you so much 😍")
    assert (praise.sentiment, praise.is_question, praise.intent) == ("positive", False, "praise")
    rant = one(analyzer, "worst customer service ever. never ordering from you again")
    assert (rant.sentiment, rant.is_question) == ("negative", False)
    refund = one(analyzer, "I sent the shoes back two weeks ago, when do I get my refund?")
    assert (refund.is_question, refund.intent) == (True, "returns_refunds")


def test_japanese_posts(analyzer: DefaultAnalyzer) -> None:
    late = one(analyzer, "記念日のために買ったのにまだ届かない…")
    assert (late.language, late.is_question, late.intent) == ("ja", True, "order_status")
    assert [c.kind for c in late.empathy_cues] == ["occasion:anniversary"]
    ask = one(analyzer, "返品ってどうすればいいですか")
    assert (ask.is_question, ask.intent) == (True, "returns_refunds")
    happy = one(analyzer, "届いた！めっちゃかわいい😍ありがとうございます")
    assert (happy.sentiment, happy.is_question, happy.intent) == ("positive", False, "praise")
    sad = one(analyzer, "最悪。高かったのにすぐ壊れた、もう二度と買わない")
    assert (sad.sentiment, sad.is_question) == ("negative", False)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😍😍😍",
        "(´・ω・｀)",
        "https://t.co/xY12 https://example.com",
        "a" * 10_000,
        "届かない" * 2500,
        "where is my order 注文まだ届かない??",
        "\x00\x01\ufffd",
        "#sale @kikistore",
    ],
)
def test_odd_text_gets_a_complete_analysis(analyzer: DefaultAnalyzer, text: str) -> None:
    result = one(analyzer, text)
    assert result.language in LANGUAGES
    assert result.sentiment in SENTIMENTS and set(result.sentiment_scores) == set(SENTIMENTS)
    assert sum(result.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert 0.0 <= result.question_score <= 1.0 and result.intent in INTENTS and 0.0 <= result.intent_score <= 1.0
    assert result.model_versions


def test_no_letters_means_other_and_best_effort(analyzer: DefaultAnalyzer) -> None:
    for text in ("", "😍😍😍", "https://t.co/xY12", "Bonjour, où est ma commande ?"):
        result = one(analyzer, text)
        assert result.language == "other"
        assert result.model_versions["sentiment_other"].startswith("best effort")
    assert not one(analyzer, "").is_question


def test_batch_keeps_order_across_languages(analyzer: DefaultAnalyzer) -> None:
    texts = ["返品できますか？", "where is my parcel?", "", "ありがとう！最高", "thanks, love it!"] * 30
    results = analyzer.analyse(texts)
    assert [r.language for r in results[:5]] == ["ja", "en", "other", "ja", "en"]
    assert results == analyzer.analyse(texts)  # deterministic
    assert [r.language for r in results] == [r.language for r in analyzer.analyse(texts[:5])] * 30


def test_failing_batch_is_retried_one_by_one(
    analyzer: DefaultAnalyzer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    component = analyzer.pipelines["en"].get_pipe("kikimimi_intent")
    real = component.model.predict_proba

    def flaky(texts: list[str], addresses_brand=None):  # noqa: ANN001, ANN202
        if any("BOOM" in t for t in texts):
            raise RuntimeError("boom")
        return real(texts, addresses_brand)

    monkeypatch.setattr(component.model, "predict_proba", flaky)
    with caplog.at_level(logging.WARNING):
        results = analyzer.analyse(["where is my order?", "BOOM this post breaks the model", "I want a refund"])
    assert [r.intent for r in results] == ["order_status", "other", "returns_refunds"]
    assert any("BOOM this post" in rec.getMessage() for rec in caplog.records)


def test_japanese_docs_keep_the_post_and_a_bounded_vocabulary(analyzer: DefaultAnalyzer) -> None:
    # The Japanese pipeline makes one token per character (no component reads tokens): the text the models
    # read is the post itself, and a stream of new posts adds no more to the vocabulary than their characters.
    nlp = analyzer.pipelines["ja"]
    for text in ["返品  したい\n\nです", "全角　スペース", "👩‍👩‍👧 届いた", "ｱｲｳ㈱①", ""]:
        assert nlp.make_doc(text).text == text
    posts = [f"{a}の{b}がまだ届かない" for a in "注文商品荷物" for b in "缶箱袋茶"]
    analyzer.analyse(posts[:2])
    before = len(nlp.vocab)
    analyzer.analyse(posts)
    assert len(nlp.vocab) - before <= len(set("".join(posts)))


def test_consecutive_batches_do_not_share_features(analyzer: DefaultAnalyzer) -> None:
    # The question and intent models reuse one batch's hashed features; the next batch must get its own.
    ask, thanks = "I sent the shoes back two weeks ago, when do I get my refund?", "love it, thank you so much 😍"
    first = analyzer.analyse([ask])[0]
    second = analyzer.analyse([thanks])[0]
    assert (first.is_question, first.intent) == (True, "returns_refunds")
    assert (second.is_question, second.intent) == (False, "praise")
    assert analyzer.analyse([ask])[0] == first
