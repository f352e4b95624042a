"""Score a FAQ head (any ``projection.npz``) on a labelled CSV from cached base embeddings.

Same grouping as the product; only the encoder pass is skipped (read from CACHE_DIR/<stem>.npy).
Usage: python -m nlp_models.faq.training.eval_cached WEIGHTS.npz CACHE_DIR FILE.csv
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from nlp_models.faq.clustering import group
from nlp_models.faq.embedding import Projection
from nlp_models.faq.evaluation import read_labelled, score


def main(weights: Path, cache: Path, csv_path: Path) -> None:
    proj = Projection.load(weights)
    texts, gold = read_labelled(csv_path)
    base = np.load(cache / f"{csv_path.stem}.npy")
    start = time.perf_counter()
    g = group(texts, embeddings=proj.apply(base), threshold=float(proj.params["threshold"][0]))
    print(json.dumps({"weights": proj.version, **score(gold, g.labels, time.perf_counter() - start).to_dict()}))  # noqa: T201


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
