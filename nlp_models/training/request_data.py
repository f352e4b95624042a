"""Training and dev rows for the question and intent heads, from commercially usable sources only.

Every row says where it came from, under which licence, whether it addresses the brand, and whether it
is a training row or a held-out dev row. Sources with their own dev split keep it; our own labelled files
are split by md5(text) (one row in five is dev). Nothing here reads tests/data/ or ../evalsets/.

Our labels of real posts (`labels/spotifycares_labels.csv`, `labels/support_tweets_labels.csv`,
`labels/airline_labels.csv`, keyed by the sha1 of the post's text) are joined to ../shared/data/ here. Those
posts are CC BY-NC-SA, so their rows carry `commercial=False`. Analysis corrections exported by
`kikimimi export corrections` are read by `correction_rows` (a brand's own posts and its people's labels).
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from nlp_models.addressing import addresses_brand_from_text
from nlp_models.cues import CUE_NAMES, cue_matrix
from nlp_models.training.data import DATA_DIR, SEED, SEEDS_DIR, read_rows, sample
from nlp_models.types import INTENTS, SENTIMENTS

__all__ = [
    "LABELS_DIR",
    "RESERVED_PREFIXES",
    "Row",
    "public_copies",
    "BITEXT_INTENT",
    "tweet_sha1",
    "support_tweet_rows",
    "correction_rows",
    "request_rows",
]

LABELS_DIR = Path(__file__).parent / "labels"
# Support tweets whose sha1 starts with one of these are kept back for an independent evaluation:
# never labelled here, never trained or tuned on.
RESERVED_PREFIXES = "0123"

# Bitext intents -> the taxonomy in ../shared/LABELLING.md. Order cancellation is returns_refunds there;
# a request to lodge a complaint is an ask (never `complaint`), with no topic: its intent is left unlabelled.
BITEXT_INTENT: dict[str, str | None] = {
    "track_order": "order_status",
    "delivery_period": "order_status",
    "change_order": "order_status",
    "change_shipping_address": "order_status",
    "cancel_order": "returns_refunds",
    "get_refund": "returns_refunds",
    "track_refund": "returns_refunds",
    "check_refund_policy": "returns_refunds",
    "check_cancellation_fee": "billing_account",
    "payment_issue": "billing_account",
    "get_invoice": "billing_account",
    "check_invoice": "billing_account",
    "check_invoices": "billing_account",
    "check_payment_methods": "billing_account",
    "create_account": "billing_account",
    "delete_account": "billing_account",
    "edit_account": "billing_account",
    "switch_account": "billing_account",
    "recover_password": "billing_account",
    "set_up_shipping_address": "billing_account",
    "newsletter_subscription": "billing_account",
    "registration_problems": "technical_issue",
    "delivery_options": "product_question",
    "place_order": "other",
    "review": "other",
    "contact_customer_service": "other",
    "contact_human_agent": "other",
    "complaint": None,
}

_BANKING_ORDER = {"card_arrival", "card_delivery_estimate"}
_BANKING_REFUND = {"Refund_not_showing_up", "request_refund", "reverted_card_payment?"}
_BANKING_TECH = {"card_not_working", "contactless_not_working", "virtual_card_not_working", "card_swallowed"}
_CLINC_NOT_ASKS = {"greeting", "goodbye", "thank_you", "yes", "no", "maybe"}
_CLINC_INTENT = {
    "order_status": "order_status",
    "sync_device": "technical_issue",
    **{
        k: "billing_account"
        for k in (
            "account_blocked bill_balance bill_due pay_bill credit_limit credit_limit_change pin_change "
            "redeem_rewards rewards_balance freeze_account card_declined report_fraud transactions balance "
            "change_user_name user_name new_card replacement_card_duration damaged_card report_lost_card"
        ).split()
    },
}


@dataclass(frozen=True)
class Row:
    """One labelled text; `is_question` or `intent` is None where the source says nothing about it."""

    text: str
    is_question: int | None
    intent: str | None
    addresses_brand: int
    weight: float
    source: str
    lang: str
    split: str  # "train" or "dev"
    commercial: bool = True
    sentiment: str | None = None  # negative / neutral / positive where the source says


def _md5_split(text: str, dev_every: int = 5) -> str:
    return "dev" if int(hashlib.md5(text.encode()).hexdigest(), 16) % dev_every == 0 else "train"


def tweet_sha1(text: str) -> str:
    """The key our support-tweet labels are stored under: sha1 of the stripped text."""
    return hashlib.sha1(text.strip().encode()).hexdigest()


# Weight of our labels of real posts beside the public sets' rows: chosen between 2 and 4 by 5-fold
# cross-validation on our labels (EN real posts: questions F1 0.766 -> 0.779, intents macro-F1 0.591 -> 0.609).
REAL_LABEL_WEIGHT = 4.0
# Our labels of real posts, keyed by sha1 of the text: label file -> (the shared file with the text, source).
KEYED_LABELS = {
    "spotifycares_labels.csv": "support_tweets/spotifycares_inbound.csv",
    "support_tweets_labels.csv": "support_tweets/spotifycares_inbound.csv",
    "support_tweets_labels_3.csv": "support_tweets/spotifycares_inbound.csv",
    "airline_labels.csv": "airline_sentiment_en/train.csv",
    "airline_labels_2.csv": "airline_sentiment_en/train.csv",
    "tweet_acts_labels.csv": "tweet_acts_en/train.csv",
}
# The shared file whose sha1 partition 0-3 is kept back for the independent evaluation (evaluation_sets.build).
RESERVED_SOURCE = "support_tweets/spotifycares_inbound.csv"
# Shared files whose text may train a commercially usable model (tweet acts: BSD-2-Clause); the rest are
# CC BY-NC-SA 4.0, so the rows joined to them are non-commercial.
COMMERCIAL_TEXTS = {"tweet_acts_en/train.csv"}


def support_tweet_rows() -> list[Row]:
    """Our labels joined to the real posts' text (support and airline tweets are CC BY-NC-SA: non-commercial
    rows; the general tweets of `tweet_acts_labels.csv` are BSD-2-Clause: commercial rows). A label's own
    `addresses_brand` column is used where it has one, else the text's leading @handle."""
    out = []
    texts: dict[str, dict[str, str]] = {}
    for name, shared in KEYED_LABELS.items():
        path = DATA_DIR / shared
        if not path.exists() or not (LABELS_DIR / name).exists():
            continue
        if shared not in texts:
            texts[shared] = {tweet_sha1(r["text"]): r["text"].strip() for r in read_rows(path)}
        by_sha = texts[shared]
        for r in read_rows_keyed(LABELS_DIR / name):
            if shared == RESERVED_SOURCE and r["sha1"][0] in RESERVED_PREFIXES:
                raise ValueError(f"{name}: label {r['sha1']} is in the reserved evaluation partition")
            text = by_sha.get(r["sha1"])
            if text is None:
                continue
            out.append(
                Row(
                    text=text,
                    is_question=int(r["is_question"]),
                    intent=r["intent"],
                    addresses_brand=int(r["addresses_brand"])
                    if r.get("addresses_brand") in ("0", "1")
                    else int(addresses_brand_from_text(text)),
                    weight=REAL_LABEL_WEIGHT,
                    source=f"labels/{name}",
                    lang="en",
                    split=_md5_split(text),
                    commercial=shared in COMMERCIAL_TEXTS,
                    sentiment=r.get("sentiment") or None,
                )
            )
    return out


_LEADING_MENTIONS = re.compile(r"^\s*\.?(?:@\w+\s*)+")
_ALSO_ASKS = re.compile(
    r"助けて|なんとかして|どうにかして|対応して|早くして|\bassist\b|\bsort (?:it|this) out\b", re.IGNORECASE
)


def public_copies(rows: list[Row], weight: float = 1.0) -> list[Row]:
    """LABELLING.md's addressing rule as data: each implicit ask (a problem told to the brand: addressed, ask 1,
    negative, no "?" and no request wording) copied as the same words posted publicly (leading @handles cut,
    `addresses_brand` 0), which is a vent: ask 0, `complaint`. Training rows only; `weight` times the original's."""
    implicit = [
        r
        for r in rows
        if r.split == "train" and r.is_question == 1 and r.addresses_brand == 1 and r.sentiment == "negative"
    ]
    cues = cue_matrix([r.text for r in implicit])
    explicit = (cues[:, CUE_NAMES.index("qmark")] > 0) | (cues[:, CUE_NAMES.index("request")] > 0)
    out = []
    for r, asks in zip(implicit, explicit, strict=True):
        text = _LEADING_MENTIONS.sub("", r.text).strip()
        if asks or not text or _ALSO_ASKS.search(text):
            continue
        out.append(
            replace(r, text=text, is_question=0, intent="complaint", addresses_brand=0, weight=r.weight * weight)
        )
    return out


def correction_rows(path: Path, weight: float = 2.0) -> list[Row]:
    """Labelled rows from `kikimimi export corrections` (a person's corrections of stored analyses).

    Columns: post_id, platform, language, text, addresses_brand, needs_reply, intent, sentiment, corrected_by,
    corrected_at; a field nobody corrected is empty and stays unlabelled. Every row trains (none is dev): the
    corrections are the brand's own data, kept apart from any evaluation set. A bad cell is an error that
    names its line, so a half-read file never trains silently."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"text", "language", "addresses_brand", "needs_reply", "intent", "sentiment"} - set(
            reader.fieldnames or []
        )
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        out = []
        for line, r in enumerate(reader, start=2):
            text = (r["text"] or "").strip()
            ask, intent, sentiment = (
                (r["needs_reply"] or "").strip(),
                (r["intent"] or "").strip(),
                (r["sentiment"] or "").strip(),
            )
            if not text or not (ask or intent or sentiment):
                continue
            if (
                ask not in ("", "0", "1", "true", "false")
                or (intent and intent not in INTENTS)
                or (sentiment and sentiment not in SENTIMENTS)
            ):
                raise ValueError(f"{path}:{line}: needs_reply={ask!r} intent={intent!r} sentiment={sentiment!r}")
            out.append(
                Row(
                    text=text,
                    is_question=None if not ask else int(ask in ("1", "true")),
                    intent=intent or None,
                    addresses_brand=int((r["addresses_brand"] or "").strip() in ("1", "true")),
                    weight=weight,
                    source="corrections",
                    lang="ja" if (r["language"] or "").startswith("ja") else "en",
                    split="train",
                    sentiment=sentiment or None,
                )
            )
    return out


def read_rows_keyed(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _casual_ja() -> Iterator[Row]:
    for r in read_rows(LABELS_DIR / "casual_ja.csv"):
        yield Row(
            r["text"],
            int(r["is_question"]),
            r["intent"],
            int(r["addresses_brand"]),
            3.0,
            "labels/casual_ja.csv",
            "ja",
            _md5_split(r["text"]),
            sentiment=r["sentiment"],
        )


def _written() -> Iterator[Row]:
    # Posts written for this project (issue 10): support turns, asks, sarcasm and praise, EN and JA.
    for lang in ("en", "ja"):
        for r in read_rows(LABELS_DIR / f"written_{lang}.csv"):
            yield Row(
                r["text"],
                int(r["is_question"]),
                r["intent"],
                int(r["addresses_brand"]),
                2.0,
                f"labels/written_{lang}.csv",
                lang,
                _md5_split(r["text"]),
                sentiment=r["sentiment"],
            )


def _seeds() -> Iterator[Row]:
    # Written for this project; posts to the brand, so they address it.
    for lang in ("en", "ja"):
        for r in read_rows(SEEDS_DIR / f"seeds_{lang}.csv"):
            yield Row(r["text"], int(r["is_question"]), r["intent"], 1, 2.0, f"seeds_{lang}.csv", lang, "train")


def _bitext(rng: random.Random) -> Iterator[Row]:
    for split, name in (("train", "train"), ("dev", "dev")):
        for r in read_rows(DATA_DIR / "intents" / "bitext_support" / f"{name}.csv"):
            yield Row(
                r["text"],
                1,
                BITEXT_INTENT.get(r["bitext_intent"]),
                1,
                0.5,
                "intents/bitext_support",
                "en",
                split,
            )
    by_label: dict[str, list[str]] = {}
    for r in read_rows(DATA_DIR / "intents" / "bitext_ecommerce.csv"):
        by_label.setdefault(r["label"], []).append(r["text"])
    for label, texts in sorted(by_label.items()):
        for text in sample(texts, 40, rng):
            yield Row(text, 1, BITEXT_INTENT.get(label), 1, 0.5, "intents/bitext_ecommerce.csv", "en", "train")


def _banking(rng: random.Random) -> Iterator[Row]:
    for split, name in (("train", "banking77_train"), ("dev", "banking77_test")):
        by_label: dict[str, list[str]] = {}
        for r in read_rows(DATA_DIR / "intents" / f"{name}.csv"):
            by_label.setdefault(r["label"], []).append(r["text"])
        for label, texts in sorted(by_label.items()):
            intent = (
                "order_status"
                if label in _BANKING_ORDER
                else "returns_refunds"
                if label in _BANKING_REFUND
                else "technical_issue"
                if label in _BANKING_TECH
                else "billing_account"
            )
            for text in sample(texts, 20 if split == "train" else 5, rng):
                yield Row(text, 1, intent, 1, 0.5, "intents/banking77", "en", split)


def _clinc(rng: random.Random) -> Iterator[Row]:
    for split, name in (("train", "clinc150_train"), ("dev", "clinc150_val")):
        by_label: dict[str, list[str]] = {}
        for r in read_rows(DATA_DIR / "intents" / f"{name}.csv"):
            by_label.setdefault(r["label"], []).append(r["text"])
        for label, texts in sorted(by_label.items()):
            ask = 0 if label in _CLINC_NOT_ASKS else 1
            k = (30 if not ask else 8) if split == "train" else 2
            for text in sample(texts, k, rng):
                yield Row(text, ask, _CLINC_INTENT.get(label, "other"), 1, 0.5, "intents/clinc150", "en", split)


def _tweet_acts() -> Iterator[Row]:
    for split in ("train", "dev"):
        for r in read_rows(DATA_DIR / "tweet_acts_en" / f"{split}.csv"):
            act = r["tweet_act"]
            # The "question" act includes rhetorical and headline questions: half weight.
            weight = 0.5 if act == "question" else 1.0
            ask = int(r["is_ask"])
            # Expressions ("love this song") may praise a product: no intent label, only the ask label.
            intent = None if ask or act == "expression" else "other"
            yield Row(r["text"], ask, intent, 0, weight, "tweet_acts_en", "en", split)


def _goemotions(rng: random.Random) -> Iterator[Row]:
    for split, k in (("train", 2500), ("dev", 400)):
        for r in sample(read_rows(DATA_DIR / "goemotions_en" / f"{split}.csv"), k, rng):
            text = r["text"]
            # Reddit comments: chatter and opinions, not posts to a brand. One with "?" may ask.
            # Positive comments are left without an intent: they taught "thank you, lovely" to be `other`.
            intent = None if r["sentiment"] == "positive" else "other"
            yield Row(text, None if "?" in text else 0, intent, 0, 0.3, "goemotions_en", "en", split)


LICENCES = {
    "intents/bitext_support": "CDLA-Sharing 1.0",
    "intents/bitext_ecommerce.csv": "CDLA-Sharing 1.0",
    "intents/banking77": "CC BY 4.0",
    "intents/clinc150": "CC BY 3.0",
    "tweet_acts_en": "BSD-2-Clause (tweets under Twitter's terms)",
    "goemotions_en": "Apache-2.0",
    "labels/casual_ja.csv": "ours (written for this project)",
    "seeds_en.csv": "ours (written for this project)",
    "seeds_ja.csv": "ours (written for this project)",
    "labels/written_en.csv": "ours (written for this project)",
    "labels/written_ja.csv": "ours (written for this project)",
    "labels/spotifycares_labels.csv": "our labels of CC BY-NC-SA 4.0 tweets (non-commercial)",
    "labels/support_tweets_labels.csv": "our labels of CC BY-NC-SA 4.0 tweets (non-commercial)",
    "labels/airline_labels.csv": "our labels of CC BY-NC-SA 4.0 airline tweets (non-commercial)",
    "labels/support_tweets_labels_3.csv": "our labels of CC BY-NC-SA 4.0 tweets (non-commercial)",
    "labels/airline_labels_2.csv": "our labels of CC BY-NC-SA 4.0 airline tweets (non-commercial)",
    "labels/tweet_acts_labels.csv": "our labels of BSD-2-Clause general tweets (tweets under Twitter's terms)",
    "corrections": "the brand's own corrections (its posts, its people's labels)",
}


def request_rows(seed: int = SEED, *, with_support_tweets: bool = False, corrections: Path | None = None) -> list[Row]:
    """Every row for the question and intent heads; `with_support_tweets` adds the non-commercial labels,
    `corrections` a file written by `kikimimi export corrections`. A general tweet we labelled replaces its
    weak tweet-acts row."""
    rng = random.Random(seed)
    labelled = [r for r in support_tweet_rows() if with_support_tweets or r.commercial]
    ours = {r.text for r in labelled}
    rows = [
        *_bitext(rng),
        *_banking(rng),
        *_clinc(rng),
        *(r for r in _tweet_acts() if r.text.strip() not in ours),
        *_goemotions(rng),
        *_casual_ja(),
        *_written(),
        *_seeds(),
        *labelled,
    ]
    if corrections is not None:
        rows += correction_rows(corrections)
    return rows
