"""Queue priority from the analysis plus reach and age: what a responder should look at first."""

from __future__ import annotations

import math

from nlp_models.types import TextAnalysis

_URGENT_INTENTS = {"order_status": 0.15, "returns_refunds": 0.15, "billing_account": 0.2, "complaint": 0.2}


def priority_score(analysis: TextAnalysis, *, followers: int | None, age_hours: float) -> float:
    """A score in [0, 1]: needs and negativity first, then reach, and older unanswered posts rise."""
    score = 0.35 * analysis.question_score
    score += 0.25 * analysis.sentiment_scores.get("negative", 0.0)
    score += _URGENT_INTENTS.get(analysis.intent, 0.0)
    score += 0.1 * min(1.0, math.log10(1 + (followers or 0)) / 5)  # 100k followers saturates
    score += 0.1 * min(1.0, max(age_hours, 0.0) / 24)  # waiting a day saturates
    score += 0.05 * bool(analysis.empathy_cues)
    return round(min(1.0, score), 4)
