"""The phrases that set a group of posts apart from the usual ones (what a spike is about), in EN and JA.

Japanese is cut into words by SudachiPy (nouns, verbs and adjectives by their dictionary form, so 届かない and
届きません both count as 届く); English into lower-cased words without stop words, with their bigrams. A phrase
scores by how much more often the group's posts use it than the background's (twice as often at least), and
needs two posts of the group.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence

from nlp_models.faq.summary import _EN_STOP, best_distinct, language_of

_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|(?<![\w.])@[\w.\-]+|[#＃]")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_JA_KEEP = {"名詞", "動詞", "形容詞"}
_JA_SKIP_SUBTYPES = {"数詞", "非自立可能", "代名詞"}
_JA_SKIP_WORDS = {"する", "ある", "いる", "なる", "ない", "れる", "られる", "こと", "もの", "さん", "よう"}


@functools.cache
def _sudachi():  # noqa: ANN202 - a sudachipy Tokenizer
    from sudachipy import dictionary

    return dictionary.Dictionary().create()


def terms(text: str) -> list[str]:
    """The distinct content words (and English bigrams) of one post."""
    text = _URL_OR_HANDLE.sub(" ", text)
    if language_of(text) == "ja":
        from sudachipy import tokenizer

        words = []
        for m in _sudachi().tokenize(text, tokenizer.Tokenizer.SplitMode.C):
            pos = m.part_of_speech()
            form = m.dictionary_form()
            if pos[0] in _JA_KEEP and pos[1] not in _JA_SKIP_SUBTYPES and form not in _JA_SKIP_WORDS:
                if len(form) > 1 or not form.isascii():
                    words.append(form.lower())
        words += [w.lower() for w in _EN_WORD.findall(text) if w.lower() not in _EN_STOP]
        return sorted(set(words))
    words = [w.lower() for w in _EN_WORD.findall(text) if w.lower() not in _EN_STOP]
    return sorted(set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)})


def top_phrases(group: Sequence[str], background: Sequence[str] = (), top: int = 5) -> list[str]:
    """The `top` phrases most characteristic of `group` against `background` (both lists of post texts)."""
    if not group:
        return []
    inside = Counter(t for text in group for t in terms(text))
    outside = Counter(t for text in background for t in terms(text))
    n_in, n_out = len(group), max(len(background), 1)
    scored = []
    for term, freq in inside.items():
        if freq < 2 and n_in >= 4:
            continue
        share_in, share_out = freq / n_in, (outside[term] + 0.5) / (n_out + 1)
        if share_in < 2 * share_out:  # as common as usual (the brand's own name): says nothing about the group
            continue
        scored.append((share_in * math.log(1 + share_in / share_out), term))
    return best_distinct(scored, top)
