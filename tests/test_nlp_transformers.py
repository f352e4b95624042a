"""The transformers backend, on a tiny randomly initialised BERT the test builds and saves locally."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp_models.analyzer import get_analyzer
from nlp_models.types import SENTIMENTS

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-bert")
    words = [
        "where",
        "is",
        "my",
        "order",
        "love",
        "it",
        "broken",
        "refund",
        "注",
        "文",
        "届",
        "か",
        "な",
        "い",
        "?",
        "!",
    ]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_transformers_backend_scores_every_post(tiny_model: Path) -> None:
    analyzer = get_analyzer("transformers", model=str(tiny_model), batch_size=2)
    texts = ["where is my order?", "注文届かない", "", "😍" * 3, "x" * 10_000, "https://t.co/abc"]
    results = analyzer.analyse(texts)
    assert len(results) == len(texts)
    for result in results:
        assert set(result.sentiment_scores) == set(SENTIMENTS)
        assert sum(result.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert result.sentiment == max(result.sentiment_scores, key=result.sentiment_scores.__getitem__)
        assert result.model_versions["sentiment"] == f"transformers:{tiny_model}"
    # The other analyses come from the offline default: language is still detected per post.
    assert [r.language for r in results[:3]] == ["en", "ja", "other"]
    # A random model gives different scores to different inputs: it really ran.
    assert results[0].sentiment_scores != results[1].sentiment_scores


def test_transformers_backend_needs_a_model() -> None:
    from kikimimi.errors import ConfigError

    with pytest.raises(ConfigError, match="needs model="):
        get_analyzer("transformers")


def test_label_mapping_rejects_unknown_labels() -> None:
    from nlp_models.hf import map_labels

    assert map_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}) == ["negative", "neutral", "positive"]
    assert map_labels({0: "Negative", 1: "Neutral", 2: "Positive"}) == ["negative", "neutral", "positive"]
    with pytest.raises(ValueError, match="joy"):
        map_labels({0: "joy", 1: "anger"})
