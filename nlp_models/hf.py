"""The transformers backend: any Hugging Face sequence-classification model for sentiment, CPU or GPU.

Only sentiment comes from the hub model; language, questions, intent and empathy cues come from
the offline default. torch and transformers are imported here only, so the default stays torch-free.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from nlp_models.consistency import reconcile
from nlp_models.default import DefaultAnalyzer
from nlp_models.types import SENTIMENTS, TextAnalysis

__all__ = ["TransformersAnalyzer", "map_labels"]

log = logging.getLogger(__name__)
_ALIASES = {
    "neg": "negative",
    "negative": "negative",
    "label_0": "negative",
    "0": "negative",
    "1 star": "negative",
    "2 stars": "negative",
    "neu": "neutral",
    "neutral": "neutral",
    "label_1": "neutral",
    "1": "neutral",
    "3 stars": "neutral",
    "pos": "positive",
    "positive": "positive",
    "label_2": "positive",
    "2": "positive",
    "4 stars": "positive",
    "5 stars": "positive",
}


def map_labels(id2label: dict[int, str]) -> list[str]:
    """Our sentiment label for each of the model's output ids (cardiffnlp, LABEL_n and star schemes)."""
    mapped = []
    for i in range(len(id2label)):
        raw = str(id2label[i]).strip().lower()
        if raw not in _ALIASES:
            raise ValueError(f"cannot map the model's label {id2label[i]!r} to negative/neutral/positive")
        mapped.append(_ALIASES[raw])
    return mapped


class TransformersAnalyzer:
    """Sentiment from a hub model (batched, on `device`), everything else from the default analyzer."""

    name = "transformers"

    def __init__(self, model: str, device: str | None = None, batch_size: int = 32, max_length: int = 128) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForSequenceClassification.from_pretrained(model).to(self.device).eval()
        self.labels = map_labels(self.model.config.id2label)
        self.batch_size = batch_size
        self.max_length = max_length
        self.default = DefaultAnalyzer()
        self.versions = {**self.default.versions, "sentiment": f"transformers:{model}"}
        del self.versions["sentiment_other"]  # the hub model decides for every language

    def _sentiment(self, texts: list[str]) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t or " " for t in texts[start : start + self.batch_size]]
            enc: Any = self.tokenizer(
                batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            with self._torch.inference_mode():
                probs = self.model(**enc.to(self.device)).logits.softmax(-1).float().cpu().numpy()
            for row in probs:
                scores = dict.fromkeys(SENTIMENTS, 0.0)
                for label, p in zip(self.labels, row, strict=True):
                    scores[label] += float(p)
                out.append(scores)
        return out

    def analyse(self, texts: Sequence[str], addresses_brand: Sequence[bool] | None = None) -> list[TextAnalysis]:
        """The default analysis with sentiment replaced by the hub model's (then made consistent again)."""
        clean = [t if isinstance(t, str) else "" for t in texts]
        results = self.default.analyse(clean, addresses_brand)
        for analysis, scores in zip(results, self._sentiment(clean), strict=True):
            analysis.sentiment_scores = scores
            analysis.sentiment = max(scores, key=scores.__getitem__)
            analysis.model_versions = dict(self.versions)
        return [reconcile(a) for a in results]
