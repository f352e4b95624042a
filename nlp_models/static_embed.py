"""Static multilingual sub-word vectors distilled from multilingual-e5-small: a fast cross-lingual view.

Each SentencePiece piece of the XLM-R vocabulary (the Japanese, emoji and most frequent English ones)
was embedded once by the e5 encoder (see training/distill_e5.py); at run time a post is the
SIF-weighted mean of its pieces' vectors. This lets sentiment learned from English tweets carry over
to Japanese, at a cost of microseconds per post and no torch.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from nlp_models.linear import WEIGHTS_DIR

__all__ = ["StaticEmbedder", "load_embedder", "build_tokenizer"]

log = logging.getLogger(__name__)
_SIF_A = 1e-3  # smooth inverse frequency: frequent pieces ("の", "the") weigh little


def build_tokenizer(pieces: list[str], scores: list[float]) -> Tokenizer:
    """A SentencePiece-unigram tokenizer over `pieces` (id = position), XLM-R style metaspace."""
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], unk_id=0))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    return tok


class StaticEmbedder:
    """Text -> L2-normalised mean of distilled piece vectors (zeros when no piece is known)."""

    def __init__(self, pieces: list[str], scores: np.ndarray, vectors: np.ndarray, version: str) -> None:
        self.tokenizer = build_tokenizer(pieces, scores.tolist())
        self.vectors = vectors.astype(np.float32)
        self.weights = (_SIF_A / (_SIF_A + np.exp(scores.astype(np.float64)))).astype(np.float32)
        self.weights[0] = 0.0  # unk
        self.dim = vectors.shape[1]
        self.version = version

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, enc in enumerate(self.tokenizer.encode_batch([(t or "")[:2000] for t in texts])):
            ids = np.asarray(enc.ids, dtype=np.int64)
            if ids.size == 0:
                continue
            w = self.weights[ids]
            total = w.sum()
            if total <= 0:
                continue
            v = (w[:, None] * self.vectors[ids]).sum(axis=0) / total
            norm = np.linalg.norm(v)
            if norm > 0:
                out[i] = v / norm
        return out

    def save(self, name: str, pieces: list[str], scores: np.ndarray, directory: Path = WEIGHTS_DIR) -> None:
        np.savez_compressed(directory / f"{name}.npz", vectors=self.vectors.astype(np.float16), scores=scores)
        (directory / f"{name}.pieces.json").write_text(json.dumps(pieces, ensure_ascii=False), encoding="utf-8")


@cache
def load_embedder(name: str, version: str = "", directory: Path = WEIGHTS_DIR) -> StaticEmbedder:
    """Load the shipped static vectors once per process."""
    pieces = json.loads((directory / f"{name}.pieces.json").read_text(encoding="utf-8"))
    with np.load(directory / f"{name}.npz") as z:
        vectors, scores = z["vectors"], z["scores"]
    return StaticEmbedder(pieces, scores, vectors, version or name)
