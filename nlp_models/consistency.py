"""One rule, in one place, that every backend's analysis passes through: LABELLING.md's precedence.

- A question (`is_question`) is never `complaint` or `praise`: the ask sets the intent.
- A post analysed `positive` is never `complaint`.

When the intent breaks the rule, the most probable allowed intent takes its place (from `intent_scores`
where the backend gives them), else `other`. Backends call `reconcile` on their output; the drafter calls
`consistent_intent` on stored analyses, so rows analysed before the rule existed get the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from nlp_models.types import INTENTS, TextAnalysis

__all__ = ["forbidden_intents", "consistent_intent", "reconcile"]

_NOT_FOR_QUESTIONS = frozenset({"complaint", "praise"})
_NOT_FOR_POSITIVE = frozenset({"complaint"})


def forbidden_intents(*, is_question: bool, sentiment: str) -> frozenset[str]:
    """The intents an analysis with this question flag and sentiment may not have."""
    out: frozenset[str] = frozenset()
    if is_question:
        out |= _NOT_FOR_QUESTIONS
    if sentiment == "positive":
        out |= _NOT_FOR_POSITIVE
    return out


def consistent_intent(
    intent: str, *, is_question: bool, sentiment: str, intent_scores: Mapping[str, float] | None = None
) -> tuple[str, float | None]:
    """(intent, its score or None) that obeys the rule: `intent` itself when allowed, else the best allowed one."""
    banned = forbidden_intents(is_question=is_question, sentiment=sentiment)
    if intent not in banned:
        return intent, None
    allowed = {k: v for k, v in (intent_scores or {}).items() if k in INTENTS and k not in banned}
    if not allowed:
        return "other", None
    best = max(allowed, key=allowed.__getitem__)
    return best, float(allowed[best])


def reconcile(analysis: TextAnalysis) -> TextAnalysis:
    """The analysis with its intent made consistent with its question flag and sentiment."""
    intent, score = consistent_intent(
        analysis.intent,
        is_question=analysis.is_question,
        sentiment=analysis.sentiment,
        intent_scores=analysis.intent_scores,
    )
    if intent == analysis.intent:
        return analysis
    return replace(analysis, intent=intent, intent_score=score if score is not None else 0.0)
