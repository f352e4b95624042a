"""Where the shared training sets are, and how they are read (the label mappings: `request_data.py`).

Nothing here reads an evaluation set. sentiment_en/dev.csv and tests/data/*.csv are only ever measured
on; sentiment_ja/wrime_dev.csv is measured on and also fits the Japanese sentiment head
(train_encoder.fit_sentiment_ja_head, which reports a cross-validated figure for that reason).
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

__all__ = ["DATA_DIR", "SEED", "SEEDS_DIR", "read_rows", "sample"]

SEED = 13
DATA_DIR = Path(os.environ.get("KIKIMIMI_TRAINING_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
SEEDS_DIR = Path(__file__).parent


def read_rows(path: Path) -> list[dict[str, str]]:
    """All rows of a UTF-8 CSV as dicts, rows with an empty text dropped."""
    with path.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if (r.get("text") or "").strip()]


def sample(rows: list, k: int, rng: random.Random) -> list:
    """`k` rows drawn with `rng`, or all of them when there are no more than `k`."""
    return rows if len(rows) <= k else rng.sample(rows, k)
