"""Measure FAQ grouping against gold intent labels (labels are never shown to the grouping)."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nlp_models.faq.clustering import group


@dataclass
class FaqScores:
    """What ``kikimimi eval faq`` prints."""

    n: int
    n_clusters: int
    nmi: float
    ari: float
    accuracy: float
    noise: int
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def hungarian_accuracy(gold: Sequence[str], labels: np.ndarray) -> float:
    """Share of rows whose cluster is matched one-to-one to their gold label; noise rows count wrong."""
    gold_ids = {g: i for i, g in enumerate(sorted(set(gold)))}
    g = np.array([gold_ids[x] for x in gold])
    mask = labels >= 0
    if not mask.any():
        return 0.0
    n_clusters = int(labels.max()) + 1
    counts = np.zeros((n_clusters, len(gold_ids)), dtype=np.int64)
    np.add.at(counts, (labels[mask], g[mask]), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum()) / len(gold)


def score(gold: Sequence[str], labels: np.ndarray, seconds: float) -> FaqScores:
    """NMI and ARI treat noise rows as one extra cluster; accuracy counts them wrong."""
    labels = np.asarray(labels)
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    return FaqScores(
        n=len(gold),
        n_clusters=n_clusters,
        nmi=round(float(normalized_mutual_info_score(gold, labels)), 4),
        ari=round(float(adjusted_rand_score(gold, labels)), 4),
        accuracy=round(hungarian_accuracy(gold, labels), 4),
        noise=int((labels < 0).sum()),
        seconds=round(seconds, 2),
    )


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV with ``text`` and ``label`` columns."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"text", "label"} <= rows[0].keys():
        raise ValueError(f"{path} needs columns text,label")
    return [r["text"] for r in rows], [r["label"] for r in rows]


def evaluate(texts: Sequence[str], gold: Sequence[str], *, embeddings: np.ndarray | None = None) -> FaqScores:
    """Group ``texts`` with the product's :func:`group` (timed, embedding included unless given) and score."""
    start = time.perf_counter()
    grouping = group(texts, embeddings=embeddings)
    return score(gold, grouping.labels, time.perf_counter() - start)


def evaluate_file(path: Path) -> FaqScores:
    """Evaluate on a labelled CSV, embedding every row as the product would."""
    texts, gold = read_labelled(path)
    return evaluate(texts, gold)
