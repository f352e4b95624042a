"""Strip what says where a post was found (links, @handles, #tags, the brand's own name) but not what it asks."""

from __future__ import annotations

import re
from collections.abc import Iterable

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<![\w.])@[\w.\-]+(?:@[\w.\-]+)?")
_HASHTAG = re.compile(r"(?<!\w)[#＃][^\s#＃]+")
_EMPTY_BRACKETS = re.compile(r"【\s*】|（\s*）|\(\s*\)|\[\s*\]|「\s*」")
_EDGE = re.compile(r"^[\s:：\-—–|/・,、]+|[\s:：\-—–|/・,、]+$")


def clean_question(text: str, brand_terms: Iterable[str] = ()) -> str:
    """The question without links, handles, hashtags and brand terms; the original if nothing is left."""
    out = _URL.sub(" ", text)
    out = _HANDLE.sub(" ", out)
    out = _HASHTAG.sub(" ", out)
    for term in sorted({t.strip() for t in brand_terms if t and t.strip()}, key=len, reverse=True):
        out = re.sub(re.escape(term), " ", out, flags=re.IGNORECASE)
    out = _EMPTY_BRACKETS.sub(" ", out)
    out = _EDGE.sub("", " ".join(out.split()))
    return out or text.strip()
