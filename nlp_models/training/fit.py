"""Fitting a HashedLinearModel: idf from the training texts, then logistic regression."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, recall_score

from nlp_models.linear import HashedLinearModel, _vectorizer

__all__ = ["fit_linear", "macro_recall", "macro_f1"]

log = logging.getLogger(__name__)


def _idf(texts: list[str], views: list[dict[str, Any]]) -> np.ndarray:
    parts = []
    for view in views:
        counts = _vectorizer(view).transform([t[:2000] for t in texts])
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        parts.append(np.log((1 + len(texts)) / (1 + df)) + 1.0)
    return np.concatenate(parts).astype(np.float32)


def fit_linear(
    name: str,
    version: str,
    texts: list[str],
    labels: list[str],
    *,
    views: list[dict[str, Any]],
    cue_scale: float,
    C: float,
    seed: int,
    weights: list[float] | None = None,
    card: dict[str, Any] | None = None,
    strip_mentions: bool = True,
    addresses_brand: list[int] | None = None,
) -> HashedLinearModel:
    """Train a class-balanced logistic regression over hashed views + cues and wrap it for shipping.

    With `addresses_brand` (one 0/1 per text) the model also reads that flag (`HashedLinearModel.inputs`)."""
    idf = _idf(texts, views)
    model = HashedLinearModel(
        name=name,
        version=version,
        classes=[],
        views=views,
        cue_scale=cue_scale,
        idf=idf,
        coef=np.zeros(0, np.float32),
        intercept=np.zeros(0, np.float32),
        card=card or {},
        strip_mentions=strip_mentions,
        inputs=[] if addresses_brand is None else ["addresses_brand"],
    )
    X = model.features(texts, addresses_brand)
    clf = LogisticRegression(C=C, max_iter=1000, class_weight="balanced", random_state=seed)
    clf.fit(X, labels, sample_weight=None if weights is None else np.asarray(weights))
    model.classes = [str(c) for c in clf.classes_]
    model.coef, model.intercept = clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32)
    return model


def macro_recall(gold: list[str], pred: list[str]) -> float:
    return float(recall_score(gold, pred, average="macro"))


def macro_f1(gold: list[str], pred: list[str]) -> float:
    return float(f1_score(gold, pred, average="macro"))
