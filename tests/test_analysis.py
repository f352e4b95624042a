"""The analysis stage and the baseline analyzer (the measured models have their own tests)."""

import pytest
from sqlmodel import select

from kikimimi.errors import ConfigError
from kikimimi.models import Analysis, Post
from listener.store import upsert_posts
from nlp_models.analyzer import get_analyzer
from nlp_models.baseline import BaselineAnalyzer
from nlp_models.spam import is_spam
from nlp_models.stage import analyse_pending
from tests.conftest import make_post


@pytest.mark.parametrize(
    ("text", "language", "question", "intent"),
    [
        ("where is my order?? it's been 2 weeks", "en", True, "order_status"),
        ("still waiting on my order", "en", True, "order_status"),
        ("返品できますか", "ja", True, "returns_refunds"),
        ("まだ届かないんだけど…", "ja", True, "order_status"),
        ("love this matcha so much 😍", "en", False, "product_question"),
        ("", "other", False, "other"),
    ],
)
def test_baseline_examples(text, language, question, intent):
    [result] = BaselineAnalyzer().analyse([text])
    assert (result.language, result.is_question, result.intent) == (language, question, intent)
    assert set(result.sentiment_scores) == {"negative", "neutral", "positive"}


def test_baseline_survives_odd_input():
    texts = ["🍵🍵🍵", "x" * 10_000, "https://a.b/c https://d.e/f", "Komorebiの抹茶 is great!!"]
    results = BaselineAnalyzer().analyse(texts)
    assert len(results) == 4 and results[3].language == "ja"


def test_empathy_cues_carry_their_span():
    [result] = BaselineAnalyzer().analyse(["記念日のために買ったのにまだ届かない"])
    [cue] = result.empathy_cues
    assert (cue.kind, cue.span) == ("occasion:anniversary", "記念日")
    assert "記念日のために買ったのにまだ届かない"[cue.start : cue.end] == "記念日"


def test_spam():
    assert is_spam("Earn $500 a day with crypto, DM me")
    assert is_spam("フォロバ100% 相互フォロー募集")
    assert not is_spam("My matcha arrived broken, can I get a refund?")


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown backend 'nope'"):
        get_analyzer("nope")


def test_stage_analyses_once_and_redo_only_when_versions_change(session):
    upsert_posts(session, [make_post("1", text="where is my order??"), make_post("2", text="Earn $$ with crypto")])
    session.commit()
    analyzer = BaselineAnalyzer()
    assert analyse_pending(session, analyzer) == 2
    assert analyse_pending(session, analyzer) == 0
    assert analyse_pending(session, analyzer, redo=True) == 0
    newer = BaselineAnalyzer()
    newer.versions = {**analyzer.versions, "sentiment": "baseline-0.2"}
    assert analyse_pending(session, newer, redo=True) == 2
    rows = {p.external_id: a for p, a in session.exec(select(Post, Analysis).join(Analysis))}
    assert rows["1"].needs_reply and rows["1"].priority > 0 and rows["1"].is_question
    assert rows["2"].is_spam and not rows["2"].needs_reply and rows["2"].priority == 0
    assert len(session.exec(select(Analysis)).all()) == 2  # one current analysis per post


def test_stage_leaves_an_analysis_stored_another_way_alone(session):
    upsert_posts(session, [make_post("1", text="where is my order??"), make_post("2", text="love it")])
    session.commit()
    imported = session.exec(select(Post).where(Post.external_id == "1")).one()
    session.add(Analysis(post_id=imported.id, language="en", sentiment="negative", intent="complaint"))
    session.commit()
    assert analyse_pending(session, BaselineAnalyzer()) == 1  # only the post without one
    assert analyse_pending(session, BaselineAnalyzer()) == 0
    kept = session.exec(select(Analysis).where(Analysis.post_id == imported.id)).one()
    assert (kept.sentiment, kept.intent) == ("negative", "complaint")
    assert all(session.exec(select(Post.analysed)))  # neither is left in the index of unanalysed posts
