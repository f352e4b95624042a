"""The rule-and-lexicon BASELINE analyzer: honest first versions of every analysis, not measured models.

It exists so the pipeline runs end to end; the measured models replace it as the "default" backend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nlp_models.consistency import reconcile
from nlp_models.types import EmpathyCue, TextAnalysis

VERSION = "baseline-0.1"
_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")

_POSITIVE = (
    "love",
    "great",
    "amazing",
    "thank",
    "awesome",
    "perfect",
    "delicious",
    "best",
    "happy",
    "recommend",
    "beautiful",
    "😍",
    "❤",
    "🥰",
    "✨",
    "👍",
    "🙏",
    "好き",
    "最高",
    "美味しい",
    "おいしい",
    "ありがと",
    "嬉しい",
    "うれしい",
    "素敵",
    "かわいい",
    "可愛い",
    "神",
    "助かる",
    "感謝",
    "おすすめ",
)
_NEGATIVE = (
    "broken",
    "late",
    "never",
    "worst",
    "terrible",
    "angry",
    "disappoint",
    "refund",
    "still waiting",
    "scam",
    "rude",
    "charged twice",
    "damaged",
    "cracked",
    "awful",
    "not happy",
    "😡",
    "😠",
    "😭",
    "💢",
    "割れ",
    "遅い",
    "届かない",
    "最悪",
    "ひどい",
    "酷い",
    "残念",
    "返金",
    "怒",
    "がっかり",
    "二重",
    "壊れ",
    "ムカつく",
    "困って",
)
_QUESTION_EN = re.compile(
    r"\?|^(how|what|when|where|why|who|which|can|could|do|does|is|are|will|would|should)\b|"
    r"\b(any update|anyone know|let me know|please help|pls help|help me|still waiting|need help|i want to "
    r"(return|cancel|change)|how do i|how can i|wondering)\b",
    re.IGNORECASE,
)
_QUESTION_JA = re.compile(
    r"[？?]|ですか|ますか|でしょうか|かな[ぁ…。!！]*$|かな\b|教えて|知りたい|まだ届かない|届かないんだけど|"
    r"できますか|できる[？?]?$|どうすれば|どうしたら|いつ(届|発送|入荷)|したいんだけど|お願いします|って何"
)
_INTENT_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("returns_refunds", re.compile(r"return|refund|exchange|broken|cracked|damaged|返品|返金|交換|割れ|壊れ", re.I)),
    ("order_status", re.compile(r"order|track|deliver|arriv|ship|still waiting|注文|届|発送|配送|追跡", re.I)),
    (
        "billing_account",
        re.compile(
            r"charge|bill|pay|card|account|password|subscription|課金|請求|支払|決済|"
            r"アカウント|ログイン|定期便|サブスク|PayPay|コンビニ",
            re.I,
        ),
    ),
    (
        "technical_issue",
        re.compile(
            r"error|bug|crash|website|app |checkout|code (isn't|not|doesn't)|coupon|"
            r"エラー|不具合|サイト|アプリ|クーポン",
            re.I,
        ),
    ),
    (
        "product_question",
        re.compile(
            r"caffeine|brew|temperature|matcha|sencha|hojicha|teapot|kyusu|restock|"
            r"gift|wrap|カフェイン|淹れ|温度|抹茶|煎茶|ほうじ茶|急須|再入荷|ラッピング",
            re.I,
        ),
    ),
]
_CUES: list[tuple[str, re.Pattern[str]]] = [
    ("occasion:anniversary", re.compile(r"anniversary|記念日", re.I)),
    ("occasion:birthday", re.compile(r"birthday|bday|誕生日|誕プレ", re.I)),
    ("occasion:gift", re.compile(r"\bgift\b|present for|プレゼント|贈り物|ギフト", re.I)),
    ("occasion:wedding", re.compile(r"wedding|結婚式|結婚祝い", re.I)),
    (
        "deadline",
        re.compile(
            r"by (tomorrow|friday|monday|tuesday|wednesday|thursday|saturday|sunday|the \w+)|"
            r"before (friday|monday|tuesday|wednesday|thursday|saturday|sunday|the \w+)|"
            r"明日まで|今週中|週末まで|までに",
            re.I,
        ),
    ),
    ("first_purchase", re.compile(r"first (order|purchase|time ordering)|初めて(の)?(注文|購入)|初購入", re.I)),
    (
        "repeated_problem",
        re.compile(
            r"(second|third|fourth|2nd|3rd) time|again\?!|yet again|(二|三|2|3)回目|またかよ|"
            r"また(届|割れ|遅)",
            re.I,
        ),
    ),
]


def detect_language(text: str) -> str:
    if _KANA.search(text) or (_CJK.search(text) and not _LATIN.search(text)):
        return "ja"
    return "en" if _LATIN.search(text) else "other"


def _sentiment(text: str) -> tuple[str, dict[str, float]]:
    lowered = text.lower()
    pos = sum(lowered.count(w) for w in _POSITIVE)
    neg = sum(lowered.count(w) for w in _NEGATIVE)
    total = pos + neg + 0.5  # one lexicon hit outweighs the neutral prior
    scores = {"negative": neg / total, "neutral": 0.5 / total, "positive": pos / total}
    label = max(scores, key=lambda k: scores[k])
    return label, scores


def _question(text: str, language: str) -> float:
    pattern = _QUESTION_JA if language == "ja" else _QUESTION_EN
    hits = len(pattern.findall(text.strip()))
    return min(1.0, 0.6 * hits) if hits else 0.05


def _intent(text: str, sentiment: str) -> tuple[str, float]:
    for intent, pattern in _INTENT_RULES:
        if pattern.search(text):
            return intent, 0.6
    if sentiment == "negative":
        return "complaint", 0.5
    if sentiment == "positive":
        return "praise", 0.5
    return "other", 0.3


def empathy_cues(text: str) -> list[EmpathyCue]:
    cues = []
    for kind, pattern in _CUES:
        match = pattern.search(text)
        if match:
            cues.append(EmpathyCue(kind=kind, span=match.group(0), start=match.start(), end=match.end()))
    return cues


class BaselineAnalyzer:
    """Keyword rules in English and Japanese. Named a baseline everywhere it shows."""

    name = "baseline"
    versions = {c: VERSION for c in ("language", "sentiment", "question", "intent", "empathy")}

    def analyse(self, texts: Sequence[str], addresses_brand: Sequence[bool] | None = None) -> list[TextAnalysis]:
        """Keyword rules per text (`addresses_brand` is accepted and unused); results pass `reconcile`."""
        results = []
        for text in texts:
            text = text or ""
            language = detect_language(text)
            sentiment, scores = _sentiment(text)
            question_score = _question(text, language)
            intent, intent_score = _intent(text, sentiment)
            results.append(
                TextAnalysis(
                    language=language,
                    sentiment=sentiment,
                    sentiment_scores=scores,
                    is_question=question_score >= 0.5,
                    question_score=question_score,
                    intent=intent,
                    intent_score=intent_score,
                    empathy_cues=empathy_cues(text),
                    model_versions=dict(self.versions),
                )
            )
        return [reconcile(a) for a in results]
