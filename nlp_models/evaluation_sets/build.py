"""Write the independent evaluation sets as the CSVs `kikimimi eval` reads.

`support_en_labels.csv` holds labels for real support tweets keyed by the SHA-1 of the stripped text; the
texts stay in `../shared/data/support_tweets/` (CC BY-NC-SA) and are joined here. `casual_ja.csv` holds its
own text (written for the project). Neither set is ever trained or tuned on: training scripts must skip every
support tweet whose SHA-1 starts with 0–3 (`is_evaluation_tweet`).

    python -m nlp_models.evaluation_sets.build OUT_DIR
    kikimimi eval questions OUT_DIR/questions_en.csv     # likewise intents_*, sentiment_*
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

from nlp_models.training.data import DATA_DIR

HERE = Path(__file__).parent
SUPPORT_TWEETS = DATA_DIR / "support_tweets" / "spotifycares_inbound.csv"
TASKS = {"questions": "is_question", "intents": "intent", "sentiment": "sentiment"}


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()


def is_evaluation_tweet(text: str) -> bool:
    """The support tweets reserved for evaluation: never train or tune on them."""
    return text_sha1(text)[0] in "0123"


def rows(language: str) -> list[dict[str, str]]:
    """The labelled rows of one set, with their text."""
    if language == "ja":
        with (HERE / "casual_ja.csv").open(encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    with SUPPORT_TWEETS.open(encoding="utf-8") as fh:
        texts = {text_sha1(row["text"]): row["text"].strip() for row in csv.DictReader(fh)}
    with (HERE / "support_en_labels.csv").open(encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    missing = [row["sha1"] for row in labels if row["sha1"] not in texts]
    if missing:
        raise SystemExit(f"{len(missing)} labelled tweets are not in {SUPPORT_TWEETS} (first: {missing[0]})")
    return [{**row, "text": texts[row["sha1"]]} for row in labels]


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m nlp_models.evaluation_sets.build OUT_DIR")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for language in ("en", "ja"):
        labelled = rows(language)
        for task, column in TASKS.items():
            path = out / f"{task}_{language}.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["text", "label" if task == "sentiment" else column, "addresses_brand"])
                writer.writerows([row["text"], row[column], row["addresses_brand"]] for row in labelled)
            print(f"{path}: {len(labelled)} rows")


if __name__ == "__main__":
    main()
