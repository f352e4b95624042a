"""Queue priority from the analysis plus reach and age: what a responder should look at first."""

from __future__ import annotations

import math

from nlp_models.types import TextAnalysis

# Weights sum to 1.0 so the score stays in [0, 1] without clipping in ordinary cases.
_W_NEED = 0.35  # asks for information or action
_W_NEGATIVE = 0.2  # an unhappy customer is a fire that grows
_W_INTENT = 0.15  # intents that need the brand to act
_W_CUES = 0.1  # deadlines and repeated problems are time-critical; occasions deserve care
_W_REACH = 0.1
_W_AGE = 0.1

_INTENT_URGENCY = {
    "order_status": 1.0,
    "returns_refunds": 1.0,
    "billing_account": 1.0,
    "technical_issue": 0.8,
    "complaint": 0.8,
    "product_question": 0.5,
    "praise": 0.0,
    "other": 0.0,
}
_CUE_URGENCY = {"deadline": 1.0, "repeated_problem": 1.0, "first_purchase": 0.6}
_OCCASION_URGENCY = 0.6
_FOLLOWERS_SATURATE = 100_000  # reach stops adding above this
_AGE_SATURATE_HOURS = 24.0  # a post unanswered for a day has waited long enough to jump the queue


def priority_score(analysis: TextAnalysis, *, followers: int | None, age_hours: float) -> float:
    """A score in [0, 1]: needs and negativity first, then urgent context, reach, and time waiting."""
    cue = max((_cue_urgency(c.kind) for c in analysis.empathy_cues), default=0.0)
    reach = math.log10(1 + max(followers or 0, 0)) / math.log10(1 + _FOLLOWERS_SATURATE)
    age = max(age_hours, 0.0) / _AGE_SATURATE_HOURS
    score = (
        _W_NEED * _clip(analysis.question_score)
        + _W_NEGATIVE * _clip(analysis.sentiment_scores.get("negative", 0.0))
        + _W_INTENT * _INTENT_URGENCY.get(analysis.intent, 0.0)
        + _W_CUES * cue
        + _W_REACH * _clip(reach)
        + _W_AGE * _clip(age)
    )
    return round(_clip(score), 4)


def _cue_urgency(kind: str) -> float:
    return _CUE_URGENCY.get(kind, _OCCASION_URGENCY if kind.startswith("occasion:") else 0.0)


def _clip(x: float) -> float:
    return 0.0 if not math.isfinite(x) else min(1.0, max(0.0, x))
