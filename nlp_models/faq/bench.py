"""Print the FAQ grouping speed figures: grouping N stored embeddings, embedding throughput, placing one question.

Usage::

    python -m nlp_models.faq.bench CACHE_DIR [--n 50000]

CACHE_DIR holds base (e5) embeddings as ``*.npy`` (see ``training/cache_base.py``), i.e. what the product
stores per post at analysis time. They are projected, then grouped from scratch; the embedding cost is
measured separately on real questions and reported as its own figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from nlp_models.faq.clustering import assign, group
from nlp_models.faq.embedding import embed, embed_base, projection

SAMPLE_QUESTIONS = Path(__file__).resolve().parents[2] / "tests" / "data" / "faq_en_ja_paraphrases.csv"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cache", type=Path)
    parser.add_argument("--n", type=int, default=50_000)
    args = parser.parse_args()
    base = np.concatenate([np.load(p) for p in sorted(args.cache.glob("*.npy"))])
    rng = np.random.default_rng(0)
    if len(base) < args.n:
        raise SystemExit(f"only {len(base)} cached embeddings; need {args.n}")
    base = base[rng.choice(len(base), size=args.n, replace=False)]
    with SAMPLE_QUESTIONS.open(encoding="utf-8") as fh:
        questions = [r["text"] for r in csv.DictReader(fh)]
    embed_base(questions[:2])  # load the encoder before timing

    start = time.perf_counter()
    x = projection().apply(base)
    grouping = group([""] * len(x), embeddings=x)
    group_seconds = time.perf_counter() - start

    texts = questions * 10
    start = time.perf_counter()
    embed(texts)
    per_second = len(texts) / (time.perf_counter() - start)

    latencies = []
    for q in questions * 4:
        t0 = time.perf_counter()
        assign(q, grouping.centroids, grouping.threshold)
        latencies.append((time.perf_counter() - t0) * 1000)
    report = {
        "n": args.n,
        "n_clusters": grouping.n_clusters,
        "noise": int((grouping.labels < 0).sum()),
        "group_seconds_without_embedding": round(group_seconds, 2),
        "embed_texts_per_second": round(per_second, 1),
        "embed_seconds_for_n_estimated": round(args.n / per_second, 1),
        "place_one_ms_median": round(float(np.median(latencies)), 1),
        "place_one_ms_p95": round(float(np.percentile(latencies, 95)), 1),
    }
    print(json.dumps(report, indent=1))  # noqa: T201 - a command that prints figures


if __name__ == "__main__":
    main()
