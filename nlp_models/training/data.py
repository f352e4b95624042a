"""Loading the shared training sets and mapping them onto Kikimimi's labels.

Nothing here reads an evaluation set. sentiment_en/dev.csv and tests/data/*.csv are only ever measured
on; sentiment_ja/wrime_dev.csv is measured on and also fits the Japanese sentiment head
(train_encoder.fit_sentiment_ja_head, which reports a cross-validated figure for that reason).
"""

from __future__ import annotations

import csv
import os
import random
import re
from pathlib import Path

__all__ = ["DATA_DIR", "SEED", "BITEXT_TO_INTENT", "read_rows", "question_intent_training_rows"]

SEED = 13
DATA_DIR = Path(os.environ.get("KIKIMIMI_TRAINING_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
SEEDS_DIR = Path(__file__).parent

# Bitext e-commerce intents -> our taxonomy. Bitext has no technical issues, product questions or
# praise; those come from the hand-written seeds, weakly labelled support tweets and sentiment tweets.
BITEXT_TO_INTENT = {
    "track_order": "order_status",
    "delivery_period": "order_status",
    "change_order": "order_status",
    "cancel_order": "order_status",
    "place_order": "order_status",
    "change_shipping_address": "order_status",
    "set_up_shipping_address": "order_status",
    "get_refund": "returns_refunds",
    "track_refund": "returns_refunds",
    "check_refund_policy": "returns_refunds",
    "check_cancellation_fee": "returns_refunds",
    "payment_issue": "billing_account",
    "get_invoice": "billing_account",
    "check_invoices": "billing_account",
    "check_payment_methods": "billing_account",
    "create_account": "billing_account",
    "delete_account": "billing_account",
    "edit_account": "billing_account",
    "switch_account": "billing_account",
    "recover_password": "billing_account",
    "registration_problems": "billing_account",
    "newsletter_subscription": "billing_account",
    "delivery_options": "product_question",
    "complaint": "complaint",
    "review": "other",
    "contact_customer_service": "other",
    "contact_human_agent": "other",
}


_PRAISE = re.compile(r"\b(?:love|great|amazing|thank(?:s| you)|best|perfect|awesome|recommend)\b", re.I)
_MENTION = re.compile(r"@\w+")
_BRAND = re.compile(r"spotify", re.I)
_PROBLEM = re.compile(
    r"\b(?:(?:doesn'?t|does not|won'?t|can'?t|cannot|isn'?t|not|stopped)"
    r" (?:work\w*|load\w*|play\w*|open\w*|log\w*|connect\w*|show\w*|sync\w*|let)"
    r"|keeps? \w+ing|crash\w*|error|bug\w*|broken|glitch\w*|not working|any (?:fix|update)|help)\b",
    re.I,
)
_THANKS = re.compile(r"^\W*(?:thanks|thank you|thx|ty|great|perfect|awesome|love)\b", re.I)
_BILLING = re.compile(
    r"\b(?:charg\w*|billing|billed|payment|premium|subscription|account|password|refund|card)\b", re.I
)


def read_rows(path: Path) -> list[dict[str, str]]:
    """All rows of a UTF-8 CSV as dicts, rows with an empty text dropped."""
    with path.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if (r.get("text") or "").strip()]


def _sample(rows: list, k: int, rng: random.Random) -> list:
    return rows if len(rows) <= k else rng.sample(rows, k)


def question_intent_training_rows(seed: int = SEED) -> list[tuple[str, int | None, str | None, float]]:
    """(text, is_question or None, intent or None, weight) rows for the question and intent models."""
    rng = random.Random(seed)
    out: list[tuple[str, int | None, str | None, float]] = []
    by_label: dict[str, list[str]] = {}
    for r in read_rows(DATA_DIR / "intents" / "bitext_ecommerce.csv"):
        by_label.setdefault(r["label"], []).append(r["text"])
    for label, texts in sorted(by_label.items()):
        for text in _sample(texts, 150, rng):
            out.append((text, 1, BITEXT_TO_INTENT[label], 1.0))
    # Sentiment tweets give the social register: rants, praise, chatter and crowd questions that ask the
    # brand nothing. Positive tweets count as praise only where a praise word appears ("happy friday" praises nothing).
    for r in _sample(read_rows(DATA_DIR / "sentiment_en" / "train.csv"), 2400, rng):
        text, label = r["text"], r["label"]
        if label == "positive" and _PRAISE.search(text):
            intent = "praise"
        elif label == "negative":
            intent = "complaint"
        else:
            intent = "other"
        # A tweet with a question mark may well ask something: no question label for it, only the intent.
        out.append((text, None if "?" in text else 0, intent, 0.5))
    # Real inbound support tweets: problem reports are implicit help requests; thanks are not.
    problems, thanks = [], []
    for r in read_rows(DATA_DIR / "support_tweets" / "spotifycares_inbound.csv"):
        text = _BRAND.sub("the app", _MENTION.sub("", r["text"])).strip()
        if len(text) < 15:
            continue
        if _PROBLEM.search(text):
            problems.append(text)
        elif _THANKS.match(text):
            thanks.append(text)
    for text in _sample(problems, 600, rng):
        out.append((text, 1, "billing_account" if _BILLING.search(text) else "technical_issue", 0.5))
    for text in _sample(thanks, 200, rng):
        out.append((text, 0, "praise", 0.5))
    # Japanese review sentences: statements, with a polarity that maps to praise / complaint / other.
    jrte: dict[str, list[str]] = {}
    for r in read_rows(DATA_DIR / "sentiment_ja" / "jrte_train.csv"):
        if "?" not in r["text"] and "？" not in r["text"]:
            jrte.setdefault(r["label"], []).append(r["text"])
    for label, intent in {"negative": "complaint", "positive": "praise", "neutral": "other"}.items():
        for text in _sample(jrte[label], 300, rng):
            out.append((text, 0, intent, 0.5))
    # Hand-written seeds (never the eval rows in tests/data/), weighted up: they are the only
    # Japanese requests and the only clean examples of several classes.
    for lang in ("en", "ja"):
        for r in read_rows(SEEDS_DIR / f"seeds_{lang}.csv"):
            out.append((r["text"], int(r["is_question"]), r["intent"], 4.0))
    return out
