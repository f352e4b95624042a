"""A small linear text classifier over hashed n-gram views plus cue features, stored as .npz + .json.

Hashing keeps the model free of a vocabulary file and free of pickles; weights are float16 so a
model is a few MB. Training lives in nlp_models/training/; this module only loads and predicts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from nlp_models.cards import WEIGHTS_DIR, render_card
from nlp_models.cues import CUE_NAMES, cue_matrix

__all__ = ["HashedLinearModel", "build_features", "normalise"]

log = logging.getLogger(__name__)
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"(?<![\w@])@\w+")
_SPACES = re.compile(r"\s+")
_MAX_CHARS = 2000  # longer posts are cut: the signal is in the first lines and 10k-char posts stay fast


def normalise(text: str | None) -> str:
    """Cut to _MAX_CHARS, drop @mentions (a brand handle says nothing about the post) and turn URLs into
    one token, so "@shop do you accept amex" reads like "do you accept amex"."""
    text = _URL.sub(" http ", (text or "")[:_MAX_CHARS])
    return _SPACES.sub(" ", _MENTION.sub(" ", text)).strip()


def _vectorizer(view: dict[str, Any]) -> HashingVectorizer:
    options = dict(view)
    if "ngram_range" in options:  # JSON turns the tuple into a list
        options["ngram_range"] = tuple(options["ngram_range"])
    return HashingVectorizer(alternate_sign=False, norm=None, dtype=np.float32, **options)


def build_features(
    texts: list[str],
    views: list[dict[str, Any]],
    idf: np.ndarray | None,
    cue_scale: float,
    strip_mentions: bool = True,
) -> sparse.csr_matrix:
    """Hashed counts per view -> sublinear tf x idf -> L2 row norm, then cue features times `cue_scale`.

    `strip_mentions` applies `normalise` (the request models want it; sentiment measured better without)."""
    counts, cues = _shared_features(tuple(texts), json.dumps(views, sort_keys=True), strip_mentions, bool(cue_scale))
    if idf is not None:
        counts = counts @ sparse.diags(idf.astype(np.float32))
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    counts = sparse.diags(1.0 / norms) @ counts
    if cue_scale:
        counts = sparse.hstack([counts, sparse.csr_matrix(cues * cue_scale)], format="csr")
    return counts.tocsr()


@lru_cache(maxsize=2)
def _shared_features(
    texts: tuple[str, ...], views: str, strip_mentions: bool, with_cues: bool
) -> tuple[sparse.csr_matrix, np.ndarray | None]:
    """Sublinear hashed counts and cue counts of a batch, before any model's idf: the question and intent models
    read the same views of the same batch one after the other, so the second one reuses the first one's.
    Callers must not modify what it returns."""
    cut = [normalise(t) if strip_mentions else (t or "")[:_MAX_CHARS] for t in texts]
    counts = sparse.hstack([_vectorizer(v).transform(cut) for v in json.loads(views)], format="csr", dtype=np.float32)
    counts.data = 1.0 + np.log(counts.data)
    return counts, cue_matrix(cut) if with_cues else None


@dataclass
class HashedLinearModel:
    """Multinomial (or binary) logistic regression over `build_features`."""

    name: str
    version: str
    classes: list[str]
    views: list[dict[str, Any]]
    cue_scale: float
    idf: np.ndarray
    coef: np.ndarray  # (n_classes or 1, n_features)
    intercept: np.ndarray
    card: dict[str, Any]
    strip_mentions: bool = True
    # Extra inputs beside the text: "addresses_brand" (the question model) adds one 0/1 column, so the n-gram
    # model itself can learn that a problem told to the brand is an ask and the same words posted publicly are not.
    inputs: list[str] = field(default_factory=list)

    def features(self, texts: list[str], addresses_brand: Sequence[bool] | None = None) -> sparse.csr_matrix:
        X = build_features(texts, self.views, self.idf, self.cue_scale, self.strip_mentions)
        if "addresses_brand" not in self.inputs:
            return X
        flags = np.zeros(len(texts)) if addresses_brand is None else np.asarray(addresses_brand, np.float32)
        if len(flags) != len(texts):
            raise ValueError(f"{len(flags)} addresses_brand flags for {len(texts)} texts")
        return sparse.hstack([X, sparse.csr_matrix(flags.reshape(-1, 1))], format="csr")

    def predict_proba(self, texts: list[str], addresses_brand: Sequence[bool] | None = None) -> np.ndarray:
        """Probabilities, one row per text, columns in `self.classes` order (`addresses_brand`: one flag per
        text, read by a model whose `inputs` name it; none means not addressed)."""
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        scores = self.features(texts, addresses_brand) @ self.coef.T.astype(np.float32) + self.intercept
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape[1] == 1:  # binary: sklearn keeps one column for the positive class
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, directory: Path = WEIGHTS_DIR) -> Path:
        """Write `<name>.npz` (weights) and `<name>.json` (config and model card figures)."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / f"{self.name}.npz",
            idf=self.idf.astype(np.float16),
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
        )
        meta = {
            "name": self.name,
            "version": self.version,
            "classes": self.classes,
            "views": self.views,
            "cue_scale": self.cue_scale,
            "cue_names": list(CUE_NAMES),
            "strip_mentions": self.strip_mentions,
            "inputs": self.inputs,
            "card": self.card,
        }
        path = directory / f"{self.name}.json"
        path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (directory / f"{self.name}.md").write_text(self.model_card(), encoding="utf-8")
        return path

    def model_card(self) -> str:
        """A short human-readable card: data, licences, seed, evaluation figures."""
        summary = (
            f"Classes: {', '.join(self.classes)}.\n\n"
            "Hashed n-gram views + cue features (nlp_models/cues.py)"
            + "".join(f" + {i}" for i in self.inputs)
            + ", logistic regression, float16 weights."
        )
        return render_card(f"{self.name} ({self.version})", summary, self.card)

    @classmethod
    def load(cls, name: str, directory: Path = WEIGHTS_DIR) -> HashedLinearModel:
        """Load a model saved by `save`; raises FileNotFoundError naming the training script if absent."""
        meta_path, npz_path = directory / f"{name}.json", directory / f"{name}.npz"
        if not meta_path.exists() or not npz_path.exists():
            raise FileNotFoundError(
                f"model {name!r} not found in {directory}; run python -m nlp_models.training.train_all"
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("cue_names") != list(CUE_NAMES):
            raise ValueError(f"model {name!r} was trained with other cue features; retrain it")
        with np.load(npz_path) as z:
            idf, coef, intercept = z["idf"].astype(np.float32), z["coef"].astype(np.float32), z["intercept"]
        return cls(
            name=meta["name"],
            version=meta["version"],
            classes=list(meta["classes"]),
            views=meta["views"],
            cue_scale=float(meta["cue_scale"]),
            idf=idf,
            coef=coef,
            intercept=intercept,
            card=meta.get("card", {}),
            strip_mentions=bool(meta.get("strip_mentions", True)),
            inputs=list(meta.get("inputs", [])),
        )
