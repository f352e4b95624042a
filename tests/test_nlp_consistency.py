"""The consistency rule (LABELLING.md precedence) and that every backend's output obeys it."""

from __future__ import annotations

import pytest

import nlp_models.baseline as baseline
import nlp_models.default as default
from nlp_models.analyzer import get_analyzer
from nlp_models.consistency import consistent_intent, reconcile
from nlp_models.types import TextAnalysis


def _analysis(**overrides) -> TextAnalysis:
    fields = {
        "language": "en",
        "sentiment": "neutral",
        "sentiment_scores": {"negative": 0.1, "neutral": 0.8, "positive": 0.1},
        "is_question": False,
        "question_score": 0.2,
        "intent": "other",
        "intent_score": 0.5,
    }
    fields.update(overrides)
    return TextAnalysis(**fields)


def test_a_question_takes_the_topic_of_its_ask_not_complaint():
    angry_question = _analysis(
        is_question=True,
        sentiment="negative",
        intent="complaint",
        intent_scores={"complaint": 0.6, "order_status": 0.3, "praise": 0.05, "other": 0.05},
    )
    fixed = reconcile(angry_question)
    assert (fixed.intent, fixed.intent_score) == ("order_status", 0.3)
    assert (fixed.is_question, fixed.sentiment) == (True, "negative")


def test_a_glowing_question_is_not_praise_and_a_positive_post_is_not_a_complaint():
    glowing_question = _analysis(is_question=True, sentiment="positive", intent="praise", intent_scores={"praise": 0.7})
    assert reconcile(glowing_question).intent == "other"  # no allowed intent was scored
    positive = _analysis(sentiment="positive", intent="complaint", intent_scores={"complaint": 0.5, "praise": 0.4})
    assert reconcile(positive).intent == "praise"


def test_consistent_analyses_are_left_alone():
    vent = _analysis(sentiment="negative", intent="complaint")
    assert reconcile(vent) is vent
    assert consistent_intent("praise", is_question=False, sentiment="positive") == ("praise", None)


@pytest.fixture
def always_complaint(monkeypatch):
    """Backends whose own intent model says `complaint` for everything, to see the rule applied to their output."""
    real = default.doc_to_analysis

    def complaining(doc, language, versions):
        a = real(doc, language, versions)
        a.intent, a.intent_scores = "complaint", {**a.intent_scores, "complaint": 1.0}
        return a

    monkeypatch.setattr(default, "doc_to_analysis", complaining)
    monkeypatch.setattr(baseline, "_intent", lambda text, sentiment: ("complaint", 0.9))


@pytest.mark.parametrize("backend", ["default", "baseline"])
def test_every_backend_passes_its_output_through_the_rule(always_complaint, backend):
    texts = [
        "where is my order?? two weeks and nothing, this is ridiculous",
        "love love LOVE my new bag, thank you so much 😍",
        "注文した荷物いつ届きますか？もう一週間待ってます",
        "店員さんの対応が最高でした！ありがとう",
    ]
    for analysis in get_analyzer(backend).analyse(texts, addresses_brand=[True] * len(texts)):
        if analysis.is_question:
            assert analysis.intent not in ("complaint", "praise"), analysis
        if analysis.sentiment == "positive":
            assert analysis.intent != "complaint", analysis
    first = get_analyzer(backend).analyse(texts[:1])[0]
    assert first.is_question and first.intent != "complaint"
