"""The fixed mixed English/Japanese corpus for `kikimimi bench nlp`, and per-component timing.

Built deterministically from the hand-written seed posts with varied lengths, emoji, URLs and
mentions, so runs on different machines time the same work.
"""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

from nlp_models.language import detect_language

if TYPE_CHECKING:
    from nlp_models.default import DefaultAnalyzer

__all__ = ["bench_corpus", "component_seconds"]

_SEEDS = Path(__file__).parent / "training"
_EXTRAS = ["", " 😭", " 🙏✨", " https://t.co/a1B2c3", " @kikistore", " www", " (´・ω・｀)", " #help", "!!"]


def bench_corpus(n: int = 2000, seed: int = 7) -> list[str]:
    """`n` posts, about half English and half Japanese, one to three sentences each."""
    texts: list[str] = []
    for lang in ("en", "ja"):
        with (_SEEDS / f"seeds_{lang}.csv").open(encoding="utf-8", newline="") as f:
            texts.extend(r["text"] for r in csv.DictReader(f))
    rng = random.Random(seed)
    corpus = []
    for _ in range(n):
        parts = rng.sample(texts, rng.choice((1, 1, 2, 3)))
        # Keep one language per post, as real posts mostly are.
        lang = detect_language(parts[0])
        parts = [p for p in parts if detect_language(p) == lang] or parts[:1]
        corpus.append((" " if lang == "en" else "").join(parts) + rng.choice(_EXTRAS))
    return corpus


def component_seconds(analyzer: DefaultAnalyzer, corpus: list[str]) -> dict[str, float]:
    """Seconds spent per stage (language id, tokenizer, each component) over `corpus`."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    languages = [detect_language(t) for t in corpus]
    out["language"] = time.perf_counter() - start
    for lang, nlp in analyzer.pipelines.items():
        texts = [t for t, lg in zip(corpus, languages, strict=True) if (lg == "ja") == (lang == "ja")]
        start = time.perf_counter()
        docs = [nlp.make_doc(t) for t in texts]
        out["tokenizer"] = out.get("tokenizer", 0.0) + time.perf_counter() - start
        for name, proc in nlp.pipeline:
            key = name.removeprefix("kikimimi_")
            start = time.perf_counter()
            docs = list(proc.pipe(docs, batch_size=analyzer.batch_size))
            out[key] = out.get(key, 0.0) + time.perf_counter() - start
    return {k: round(v, 3) for k, v in out.items()}
