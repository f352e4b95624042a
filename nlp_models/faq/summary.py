"""What a FAQ candidate shows: its most representative question per language and its key phrases."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
# English words, or Japanese runs of kanji/katakana (content words, roughly: particles are hiragana)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'\-]+|[\u30a0-\u30ff\u3400-\u9fff\uff66-\uff9fー]{2,}")
_EN_STOP = frozenset(
    [
        "a",
        "about",
        "after",
        "again",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "cant",
        "could",
        "did",
        "do",
        "does",
        "doesnt",
        "dont",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "hasnt",
        "havent",
        "hi",
        "how",
        "i",
        "id",
        "if",
        "im",
        "in",
        "into",
        "is",
        "it",
        "its",
        "ive",
        "just",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "some",
        "still",
        "than",
        "thanks",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "this",
        "to",
        "too",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "yet",
        "you",
        "your",
        "yours",
        "hello",
        "hey",
    ]
)


def language_of(text: str) -> str:
    """'ja' when the text has kana or kanji, else 'en' (enough to split titles by language)."""
    return "ja" if _JA_CHARS.search(text) else "en"


def representatives(
    texts: Sequence[str], embeddings: np.ndarray, members: Sequence[int], centroid: np.ndarray
) -> dict[str, str]:
    """The member closest to the cluster centroid, one per language present (the candidate's title)."""
    best: dict[str, tuple[float, str]] = {}
    for i in members:
        lang = language_of(texts[i])
        sim = float(embeddings[i] @ centroid)
        if lang not in best or sim > best[lang][0]:
            best[lang] = (sim, texts[i])
    return {lang: text for lang, (_, text) in sorted(best.items())}


def _terms(text: str) -> list[str]:
    words = [w.lower() for w in _TOKEN.findall(text)]
    words = [w for w in words if w not in _EN_STOP]
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(words) if a.isascii() and b.isascii()]
    return words + bigrams


def key_phrases(texts: Sequence[str], clusters: dict[int, Sequence[int]], top: int = 5) -> dict[int, list[str]]:
    """Class-based TF-IDF: terms frequent in a cluster and rare in the others, best first."""
    counts = {c: Counter(t for i in idx for t in set(_terms(texts[i]))) for c, idx in clusters.items()}
    df: Counter[str] = Counter()
    for cnt in counts.values():
        df.update(cnt.keys())
    n = max(len(counts), 1)
    common = {term for term, d in df.items() if n >= 4 and d > n / 2}  # in most clusters: says nothing
    out: dict[int, list[str]] = {}
    for c, cnt in counts.items():
        size = max(len(clusters[c]), 1)
        scored = [
            (freq / size * math.log(1 + n / df[term]), term)
            for term, freq in cnt.items()
            if (freq >= 2 or size < 4) and term not in common
        ]
        out[c] = best_distinct(scored, top)
    return out


def best_distinct(scored: list[tuple[float, str]], top: int) -> list[str]:
    """The `top` best-scored terms, best first, skipping any that contains or is contained in one already chosen."""
    chosen: list[str] = []
    for _, term in sorted(scored, key=lambda st: (-st[0], st[1])):
        if any(term in other or other in term for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == top:
            break
    return chosen
