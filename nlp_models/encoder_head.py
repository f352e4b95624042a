"""A linear head over the sentiment encoder's pooled encoding, combined with a text model's probabilities.

The sentiment component already runs the fine-tuned encoder on every post and keeps its mean-pooled
encoding (`doc._.encoding`); a head over it adds a semantic view to the hashed n-gram models at
almost no cost. The head is only valid for the encoder version it was trained on, so loading one
against another encoder fails with the command that retrains it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp_models.cards import WEIGHTS_DIR, render_card

__all__ = ["EncoderHead", "combine"]


@dataclass
class EncoderHead:
    name: str
    version: str
    classes: list[str]
    coef: np.ndarray  # (n_classes, hidden)
    intercept: np.ndarray  # (n_classes,)
    encoder: str  # the weights name of the encoder whose encodings it reads
    encoder_version: str
    trained_by: str  # the command that retrains it (a stale head's error names it)
    card: dict[str, Any] = field(default_factory=dict)
    # What the head reads: the pooled encoding, and (question head) whether the post addresses the brand.
    inputs: list[str] = field(default_factory=lambda: ["encoding"])

    def features(self, encodings: np.ndarray, addresses_brand: np.ndarray | None = None) -> np.ndarray:
        """The head's input rows: the encodings, then one 0/1 column per extra input."""
        parts = [encodings.astype(np.float64)]
        if "addresses_brand" in self.inputs:
            flags = np.zeros(len(encodings)) if addresses_brand is None else np.asarray(addresses_brand, np.float64)
            parts.append(flags.reshape(-1, 1))
        return np.hstack(parts)

    def predict_proba(self, encodings: np.ndarray, addresses_brand: np.ndarray | None = None) -> np.ndarray:
        scores = self.features(encodings, addresses_brand) @ self.coef.T + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, directory: Path = WEIGHTS_DIR) -> None:
        np.savez_compressed(directory / f"{self.name}.npz", coef=self.coef.astype(np.float32), intercept=self.intercept)
        meta = {
            "name": self.name,
            "version": self.version,
            "classes": self.classes,
            "encoder": self.encoder,
            "encoder_version": self.encoder_version,
            "trained_by": self.trained_by,
            "inputs": self.inputs,
            "card": self.card,
        }
        (directory / f"{self.name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", "utf-8")
        summary = (
            f"Classes: {', '.join(self.classes)}.\n\nLogistic regression over {' + '.join(self.inputs)} "
            f"(the mean-pooled encoding of `{self.encoder}`, {self.encoder_version}). Retrain: `{self.trained_by}`."
        )
        (directory / f"{self.name}.md").write_text(render_card(f"{self.name} ({self.version})", summary, self.card))

    @classmethod
    def load(cls, name: str, directory: Path = WEIGHTS_DIR) -> EncoderHead:
        meta = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        with np.load(directory / f"{name}.npz") as z:
            coef, intercept = z["coef"].astype(np.float64), z["intercept"].astype(np.float64)
        return cls(
            name=meta["name"],
            version=meta["version"],
            classes=list(meta["classes"]),
            coef=coef,
            intercept=intercept,
            encoder=meta["encoder"],
            encoder_version=meta["encoder_version"],
            trained_by=meta["trained_by"],
            card=meta.get("card", {}),
            inputs=list(meta.get("inputs", ["encoding"])),
        )


HEAD_WEIGHT = 0.5  # chosen among 0.3 / 0.5 / 0.7 / 1: best or level on every intent set and the sample feed


def combine(text_probs: np.ndarray, head_probs: np.ndarray, weight: float = HEAD_WEIGHT) -> np.ndarray:
    """text_probs x head_probs^weight, renormalised (both in the same class order).

    The head is sure of itself more often than it is right (it reads one fixed-size vector); the
    exponent tempers it, so a confident n-gram view is not overturned by a head that merely leans."""
    log = np.log(text_probs + 1e-9) + weight * np.log(head_probs + 1e-9)
    log -= log.max(axis=1, keepdims=True)
    e = np.exp(log)
    return e / e.sum(axis=1, keepdims=True)
