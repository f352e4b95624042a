"""Empathy cues: occasions, deadlines, first purchases, repeated problems, with the span that triggered each.

Rules rather than a model: the cues are a closed, nameable set and a reply must be able to quote
the exact words, so precise patterns beat a classifier here.
"""

from __future__ import annotations

import re

from nlp_models.types import EmpathyCue

__all__ = ["find_empathy_cues", "EMPATHY_VERSION", "CUE_KINDS"]

EMPATHY_VERSION = "rules-1"

_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\d+th)"
_JA_NUM = r"(?:[0-9０-９]+|[二三四五六七八九十何]+)"

_PATTERNS: dict[str, list[str]] = {
    "occasion:anniversary": [r"\banniversary\b", r"記念日", r"結婚記念", r"周年"],
    "occasion:birthday": [r"\bbirthday\b", r"\bbday\b", r"誕生日", r"バースデー", r"誕プレ"],
    "occasion:gift": [
        r"\bgift(?:s|ed)?\b",
        r"\bpresent for\b",
        r"\bchristmas\b",
        r"\bxmas\b",
        r"\bmother'?s day\b",
        r"\bfather'?s day\b",
        r"\bvalentine'?s?\b",
        r"プレゼント",
        r"ギフト",
        r"贈り物",
        r"クリスマス",
        r"母の日",
        r"父の日",
        r"バレンタイン",
        r"ホワイトデー",
        r"お祝い",
    ],
    "occasion:wedding": [r"\bwedding\b", r"\bbridal\b", r"結婚式", r"披露宴", r"ウェディング", r"ブライダル"],
    "deadline": [
        rf"\b(?:before|by|until|in time for)\s+(?:the\s+)?"
        rf"(?:{_WEEKDAYS}|tomorrow|tonight|the weekend|next week"
        rf"|{_MONTHS}\s*\d{{1,2}}(?:st|nd|rd|th)?|the\s+\d{{1,2}}(?:st|nd|rd|th)|\d{{1,2}}(?:st|nd|rd|th))\b",
        r"\b(?:need (?:it|this|them) asap|asap)\b",
        r"(?:明日|明後日|今日|今週|来週|週末|[0-9０-９]{1,2}日|[0-9０-９]{1,2}月[0-9０-９]{1,2}日|[月火水木金土日]曜(?:日)?)"
        r"(?:までに|まで|中に)",
        r"(?:間に合[いうわえ])",
        r"急ぎ",
    ],
    "first_purchase": [
        r"\bfirst (?:time )?(?:order|purchase|buying|ordering|time ordering|time buying)\b",
        r"\bfirst time (?:customer|shopper)\b",
        r"\bnew customer\b",
        r"初めて(?:の)?(?:注文|購入|買|利用|頼)",
        r"初購入",
        r"初注文",
    ],
    "repeated_problem": [
        rf"\b{_ORDINAL} time\b",
        r"\bagain\b",
        r"\b(?:twice|three times|multiple times|every (?:single )?time|yet again|keeps? happening)\b",
        rf"{_JA_NUM}回目",
        rf"{_JA_NUM}度目",
        r"また(?:破損|壊|届かな|遅延|間違|同じ|エラー|不良)",
        r"毎回",
        r"何度も",
        r"何回も",
        r"またか",
    ],
}
_COMPILED = {kind: re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE) for kind, pats in _PATTERNS.items()}
CUE_KINDS = tuple(_PATTERNS)


def find_empathy_cues(text: str) -> list[EmpathyCue]:
    """Every cue in `text`, in reading order, each with its exact span and character offsets."""
    cues: list[EmpathyCue] = []
    for kind, pattern in _COMPILED.items():
        seen_end = -1
        for match in pattern.finditer(text or ""):
            if match.start() < seen_end or match.end() == match.start():
                continue
            cues.append(EmpathyCue(kind=kind, span=match.group(0), start=match.start(), end=match.end()))
            seen_end = match.end()
    cues.sort(key=lambda c: (c.start, c.kind))
    return cues
