"""Write a seeded, class-balanced sample of Bitext e-commerce (100 rows per need) for head training.

Usage: python -m nlp_models.faq.training.sample_bitext OUT_DIR   (writes OUT_DIR/bitext_sample.csv)
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

from nlp_models.faq.training.build_projection import DATA, SEED

PER_NEED = 100


def main(out_dir: Path) -> None:
    with (DATA / "bitext_ecommerce.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rng = random.Random(SEED)
    by_label: dict[str, list[dict]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "bitext_sample.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["text", "label"])
        writer.writeheader()
        for label in sorted(by_label):
            for row in rng.sample(by_label[label], min(PER_NEED, len(by_label[label]))):
                writer.writerow({"text": row["text"], "label": row["label"]})


if __name__ == "__main__":
    main(Path(sys.argv[1]))
