"""Embed the shared intent sets once with the base encoder and cache them as .npy (build-time only).

Usage: python -m nlp_models.faq.training.cache_base CACHE_DIR FILE.csv [FILE.csv ...]
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from pathlib import Path

import numpy as np

from nlp_models.faq.embedding import embed_base

log = logging.getLogger(__name__)


def read_texts(path: Path) -> list[str]:
    """The ``text`` column of a shared CSV."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def cache_file(csv_path: Path, cache_dir: Path, batch: int = 500) -> Path:
    """Embed one CSV (resumable per batch) and write CACHE_DIR/<stem>.npy."""
    out = cache_dir / f"{csv_path.stem}.npy"
    if out.exists():
        return out
    texts = read_texts(csv_path)
    parts = []
    start = time.time()
    for i in range(0, len(texts), batch):
        parts.append(embed_base(texts[i : i + batch]))
        log.info("%s %d/%d %.0f/s", csv_path.name, i + batch, len(texts), (i + batch) / (time.time() - start))
    np.save(out, np.concatenate(parts))
    return out


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cache_dir = Path(argv[0])
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in argv[1:]:
        cache_file(Path(name), cache_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
