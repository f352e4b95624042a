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


# ---------------------------------------------------------------- titles a person would write

TITLE_CHARS = {"en": 90, "ja": 45}  # a title longer than this is passed over for a shorter member (never cut)
_SENTENCE = {"en": re.compile(r"(?<=[.!?])\s+|\n+"), "ja": re.compile(r"(?<=[。！？!?])|\n+")}
_SYMBOLS = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]+|[(（][^()（）]*[)）]\s*$")
_EN_FILLER = re.compile(
    r"^(?:(?:hi|hello|hey|yo|ok|okay|so|um+|uh+|hmm+|quick question|question|guys|all|team|there|folks|everyone)"
    r"\b[\s,:!.\-—]*)+",
    re.IGNORECASE,
)
_EN_TAIL = re.compile(r"[\s,]*(?:\b(?:thanks|thank you|thx|ty|pls|please|lol|cheers|help)\b[\s!.]*)+$", re.IGNORECASE)
_EN_ASK = re.compile(
    r"^(?:how|what|when|where|why|which|who|can|could|do|does|did|is|are|was|will|would|should|any|anyone|may)\b",
    re.IGNORECASE,
)
_JA_FILLER = re.compile(r"^(?:すみません|すいません|こんにちは|はじめまして|質問です|質問)[、。！!\s]*")
_JA_TAIL = re.compile(r"[\s、。]*(?:よろしくお願いします|お願いします|お願いいたします|笑|w+|ｗ+|…+|\.\.+)[。！!\s]*$")
_JA_ASK = re.compile(r"(?:か|かな|かね|の|でしょうか|ますか|ですか|ません\S?か|[?？])$")
_GREETING_ONLY = re.compile(
    r"^(?:hi|hello|hey|thanks|thank you|help|please help"
    r"|ありがとうございます|お願いします|すみません|こんにちは)[\s!.。！]*$",
    re.IGNORECASE,
)


def _sentences(text: str, lang: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE[lang].split(text) if p and p.strip()]
    return [p for p in parts if not _GREETING_ONLY.match(p)] or parts


def tidy_question(text: str, lang: str | None = None) -> str:
    """The asking sentence of a post, without greetings, emoji and sign-offs, as a clean question.

    Never cut: the result is a whole sentence of the post (or the whole post), tidied.
    """
    lang = lang or language_of(text)
    text = " ".join(_SYMBOLS.sub(" ", text).split())  # emoji gone, no double space where they were
    sentences = _sentences(text, lang) or [text]
    ask = _EN_ASK if lang == "en" else _JA_ASK
    asking = [k for k, s in enumerate(sentences) if "?" in s or "？" in s or ask.search(s)]
    k = asking[0] if asking else 0
    out = sentences[k]
    if k > 0 and (len(out.split()) < 6 if lang == "en" else len(out) < 10):
        out = (
            f"{sentences[k - 1]} {out}" if lang == "en" else sentences[k - 1] + out
        )  # "Am I doing it wrong?" alone says nothing
    if lang == "en":
        out = _EN_TAIL.sub("", _EN_FILLER.sub("", out)).strip(" ,.-—:;")
        out = re.sub(r"[?!]{2,}", "?", out)
        out = re.sub(r"\bi\b", "I", out)
        out = re.sub(r"\b(?:pls|plz)\b", "please", out, flags=re.IGNORECASE)
        out = re.sub(r"([.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), out)  # ". am I" -> ". Am I"
        out = out[:1].upper() + out[1:]
        if out and _EN_ASK.search(out) and not out.endswith("?"):
            out += "?"
    else:
        out = _JA_TAIL.sub("", _JA_FILLER.sub("", out)).strip(" 、")
        out = re.sub(r"[?？!！]{2,}", "？", out).replace("?", "？")
        if out and _JA_ASK.search(out) and not out.endswith("？"):
            out += "？"
    return out or text


def canonical_questions(
    texts: Sequence[str], embeddings: np.ndarray, members: Sequence[int], centroid: np.ndarray
) -> dict[str, str]:
    """One short, clean question per language present: the tidied member nearest the centroid that fits a title.

    A member that asks (ends in a question mark once tidied) beats one that only remarks ("Sold out
    everywhere"); among those, closeness to the centroid picks what the group asks and a mild preference for
    short titles breaks near-ties.
    """
    best: dict[str, tuple[bool, float, str]] = {}
    fallback: dict[str, str] = {}
    for i in members:
        lang = language_of(texts[i])
        title = tidy_question(texts[i], lang)
        if len(title) > TITLE_CHARS[lang]:
            if lang not in fallback or len(title) < len(fallback[lang]):
                fallback[lang] = title
            continue
        key = (title.endswith(("?", "？")), float(embeddings[i] @ centroid) - 0.002 * len(title))
        if lang not in best or key > best[lang][:2]:
            best[lang] = (*key, title)
    out = {lang: title for lang, (_, _, title) in best.items()}
    for lang, title in fallback.items():
        out.setdefault(lang, title)
    return dict(sorted(out.items()))
