"""Language identification for short posts: Japanese by script, the rest by langid (ships its own model)."""

from __future__ import annotations

import re
from functools import lru_cache

from nlp_models.types import LANGUAGES

__all__ = ["detect_language", "LANGID_VERSION"]

LANGID_VERSION = "langid-1.1.6+kana-rule"
MAX_CHARS = 2000  # a post's language shows in its start; a 100 KB post costs no more than this
# bounded runs: "\S+\." backtracks quadratically through a long run without spaces
_URL = re.compile(r"https?://\S+|www\.\S+|\S{1,100}?\.(?:com|jp|ly|co|net|org)/\S*")
_MENTION = re.compile(r"[@#][\w_]+")
_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_JA_PUNCT = re.compile(r"[。、！？…（）「」ｗ]|w{2,}$")
_LATIN = re.compile(r"[A-Za-z]")
# Languages langid may choose among; restricting the set keeps short English posts from being
# read as e.g. Latin or Tagalog. Anything but "en" maps to "other".
_LANGID_SET = [
    "en",
    "ja",
    "fr",
    "de",
    "es",
    "it",
    "pt",
    "nl",
    "id",
    "tl",
    "ko",
    "zh",
    "ar",
    "ru",
    "hi",
    "th",
    "vi",
    "tr",
]


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - langid's own type
    from langid.langid import LanguageIdentifier, model

    ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    ident.set_languages(_LANGID_SET)
    return ident


def detect_language(text: str) -> str:
    """Return "en", "ja" or "other" for one post; text with no letters at all (emoji, URLs) is "other"."""
    body = _MENTION.sub(" ", _URL.sub(" ", (text or "")[:MAX_CHARS]))
    kana = len(_KANA.findall(body))
    han = len(_HAN.findall(body))
    latin = len(_LATIN.findall(body))
    if kana + han + latin == 0:
        return "other"
    # Kana only occurs in Japanese; a Han-only post with no Latin letters is far likelier Japanese
    # than Chinese in a Japanese brand's stream, but we let langid decide when it is long.
    if kana and (kana + han) * 2 >= latin:
        return "ja"
    if han and not kana and latin < han:
        if han < 6 or _JA_PUNCT.search(body):
            return "ja"
        return "other" if _identifier().classify(body)[0] == "zh" else "ja"
    if latin < 3 and not kana:
        return "other"
    # Mixed Latin + Han without kana: judge the Latin part ("返品 please" is an English post).
    lang = _identifier().classify(_HAN.sub(" ", body) if han else body)[0]
    return lang if lang in LANGUAGES else "other"
