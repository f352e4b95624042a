"""The result types every analysis backend returns (the contract between nlp_models and the rest)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = (
    "order_status",
    "returns_refunds",
    "billing_account",
    "technical_issue",
    "product_question",
    "complaint",
    "praise",
    "other",
)
LANGUAGES = ("en", "ja", "other")


@dataclass(frozen=True)
class EmpathyCue:
    """Something in the post a reply should acknowledge, with the text span that triggered it."""

    # occasion:anniversary | occasion:birthday | occasion:gift | occasion:wedding | deadline | first_purchase
    # | repeated_problem
    kind: str
    span: str
    start: int
    end: int


@dataclass
class TextAnalysis:
    """Everything nlp_models says about one text."""

    language: str  # one of LANGUAGES
    sentiment: str  # one of SENTIMENTS
    sentiment_scores: dict[str, float]  # probability per SENTIMENTS label
    is_question: bool  # asks for information or action, explicitly or not
    question_score: float
    intent: str  # one of INTENTS
    intent_score: float
    empathy_cues: list[EmpathyCue] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)  # component -> version string
    intent_scores: dict[str, float] = field(default_factory=dict)  # probability per intent, where known

    def to_dict(self) -> dict:
        return asdict(self)
