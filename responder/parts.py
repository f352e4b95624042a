"""The parts of a multi-part question, so a reply answers each one.

The analysis (`nlp_models`) does not yet say where one ask ends and the next begins, so the responder splits
conservatively itself: a part is a sentence that asks (it ends in ?/？, opens with a question word, or ends the
way a Japanese question ends). A post with fewer than two such sentences is one question.
"""

from __future__ import annotations

import re

from nlp_models.cues import CUE_NAMES, cue_matrix

__all__ = ["question_parts", "part_topic", "MAX_PARTS"]

MAX_PARTS = 3  # a public reply answers at most this many parts; the rest belong in a DM
_QUOTE_CHARS = 60
_NOISE = re.compile(r"https?://\S+|[@＠][\w.]+|[#＃]\w+|[(（][^)）]{0,30}[)）]\s*$")
_SPLIT = re.compile(r"([^?？!！。\n.]+)([?？]+|[!！。.]+|\n+|$)")
_EN_ASK = re.compile(
    r"^(?:how|what|when|where|why|which|who|anyone|any chance)\b"
    r"|^(?:can|could|do|does|did|is|are|will|would|should)\s+(?:you|i|we|it|they|there|this|that|these|the|my|your)\b",
    re.I,
)
_EN_LEAD = re.compile(r"^(?:and|also|plus|oh|so|but|or)\b[\s,]*", re.I)
_JA_ASK = re.compile(r"(?:ますか|ですか|でしょうか|ませんか|かな[ぁあ〜]*|の[？?]?|ますでしょうか|ある[？?]?)$")
_TOPIC_OF_CUE = {
    "kw_order": "order_status",
    "kw_returns": "returns_refunds",
    "kw_billing": "billing_account",
    "kw_technical": "technical_issue",
    "kw_product": "product_question",
}


def question_parts(text: str, language: str) -> list[str]:
    """The asks in `text`, cleaned for quoting (no links, handles, hashtags), at most MAX_PARTS; [] for one ask."""
    found: list[str] = []
    for body, end in _SPLIT.findall(_NOISE.sub(" ", text or "")):
        sentence = " ".join(body.split()).strip(" 、,・-—")
        if language != "ja":
            sentence = _EN_LEAD.sub("", sentence)
        if len(sentence) < 3:
            continue
        asks = "?" in end or "？" in end
        asks = asks or (_JA_ASK.search(sentence) if language == "ja" else _EN_ASK.match(sentence)) is not None
        if asks and sentence.lower() not in (f.lower() for f in found):
            found.append(_short(sentence))
    return found[:MAX_PARTS] if len(found) > 1 else []


def _short(sentence: str) -> str:
    if len(sentence) <= _QUOTE_CHARS:
        return sentence
    cut = sentence[:_QUOTE_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def part_topic(part: str, fallback: str) -> str:
    """The topic (an intent) one part asks about, by its keywords; `fallback` (the post's intent) when none."""
    row = cue_matrix([part])[0]
    scores = {topic: row[CUE_NAMES.index(cue)] for cue, topic in _TOPIC_OF_CUE.items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] > 0 else fallback
