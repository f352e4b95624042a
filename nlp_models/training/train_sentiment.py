"""Train the English and Japanese sentiment models; print their evaluation.

    python -m nlp_models.training.train_sentiment [--lang en|ja|both]

English: sentiment_en/train.csv only; evaluated on sentiment_en/dev.csv (TweetEval validation, never
trained on). Japanese: no Japanese SNS training set exists in ../shared/data, so the model learns from
JRTE hotel-review sentences plus a sample of the English tweets, sharing the language-independent
cue features (emoji, kaomoji, 「w」, a small hand-written EN/JA emotion lexicon); it is evaluated
on sentiment_ja/wrime_dev.csv, which is never trained on.
"""

from __future__ import annotations

import argparse
import logging
import random
import time

from nlp_models.training.data import DATA_DIR, SEED, read_rows
from nlp_models.training.fit import fit_linear, macro_f1, macro_recall

log = logging.getLogger(__name__)

EN_VIEWS = [
    {"analyzer": "word", "ngram_range": (1, 2), "n_features": 2**18, "token_pattern": r"(?u)\b\w+\b|[^\w\s]"},
    {"analyzer": "char_wb", "ngram_range": (2, 5), "n_features": 2**18},
]
JA_VIEWS = [{"analyzer": "char", "ngram_range": (1, 3), "n_features": 2**18}]
EN_CUE_SCALE, EN_C = 0.5, 1.0
JA_CUE_SCALE, JA_C, JA_EN_SAMPLE = 1.0, 1.0, 8000


def _evaluate(model, rows: list[dict[str, str]]) -> dict[str, float]:  # noqa: ANN001 - HashedLinearModel
    probs = model.predict_proba([r["text"] for r in rows])
    pred = [model.classes[i] for i in probs.argmax(axis=1)]
    gold = [r["label"] for r in rows]
    return {
        "n": len(rows),
        "macro_recall": round(macro_recall(gold, pred), 4),
        "macro_f1": round(macro_f1(gold, pred), 4),
    }


def train_en(seed: int = SEED) -> dict[str, float]:
    train = read_rows(DATA_DIR / "sentiment_en" / "train.csv")
    dev = read_rows(DATA_DIR / "sentiment_en" / "dev.csv")
    start = time.time()
    model = fit_linear(
        "sentiment_en",
        "sentiment_en-linear-1",
        [r["text"] for r in train],
        [r["label"] for r in train],
        views=EN_VIEWS,
        strip_mentions=False,
        cue_scale=EN_CUE_SCALE,
        C=EN_C,
        seed=seed,
    )
    figures = _evaluate(model, dev)
    model.card = {
        "trained_on": ["sentiment_en/train.csv (SemEval 2013-2016 / TweetEval train; Twitter terms)"],
        "evaluated_on": {"sentiment_en/dev.csv (TweetEval validation, never trained on)": figures},
        "seed": seed,
        "config": {"C": EN_C, "cue_scale": EN_CUE_SCALE},
    }
    model.save()
    print(f"sentiment_en: dev {figures} ({time.time() - start:.0f}s)")
    return figures


def train_ja(seed: int = SEED) -> dict[str, float]:
    rng = random.Random(seed)
    jrte = read_rows(DATA_DIR / "sentiment_ja" / "jrte_train.csv")
    english = rng.sample(read_rows(DATA_DIR / "sentiment_en" / "train.csv"), JA_EN_SAMPLE)
    rows = jrte + english
    wrime = read_rows(DATA_DIR / "sentiment_ja" / "wrime_dev.csv")
    start = time.time()
    model = fit_linear(
        "sentiment_ja",
        "sentiment_ja-linear-1",
        [r["text"] for r in rows],
        [r["label"] for r in rows],
        views=JA_VIEWS,
        strip_mentions=False,
        cue_scale=JA_CUE_SCALE,
        C=JA_C,
        seed=seed,
    )
    figures = _evaluate(model, wrime)
    model.card = {
        "trained_on": [
            "sentiment_ja/jrte_train.csv (JRTE hotel reviews; CC BY-NC-SA 4.0)",
            f"{JA_EN_SAMPLE} rows sampled from sentiment_en/train.csv (Twitter terms)",
        ],
        "evaluated_on": {"sentiment_ja/wrime_dev.csv (WRIME v1 dev; CC BY-NC-ND 4.0; never trained on)": figures},
        "seed": seed,
        "config": {"C": JA_C, "cue_scale": JA_CUE_SCALE},
        "licence_note": "JRTE is non-commercial (CC BY-NC-SA 4.0): this model inherits that restriction",
    }
    model.save()
    print(f"sentiment_ja: wrime_dev {figures} ({time.time() - start:.0f}s)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "ja", "both"), default="both")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    if args.lang in ("ja", "both"):
        train_ja()
    if args.lang in ("en", "both"):
        train_en()


if __name__ == "__main__":
    main()
