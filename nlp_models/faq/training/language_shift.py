"""Add ``ja_shift`` (English mean - Japanese mean of base embeddings) to the shipped FAQ head.

The means come from the project's own sample feed (``listener/sample_data/sample_feed.jsonl``,
written by the project), so no third-party Japanese data ends up in the weights.

Usage: python -m nlp_models.faq.training.language_shift
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import numpy as np

from nlp_models.faq.embedding import PROJECTION_FILE, Projection, embed_base
from nlp_models.faq.summary import language_of

log = logging.getLogger(__name__)
SAMPLE_FEED = Path(__file__).resolve().parents[3] / "listener" / "sample_data" / "sample_feed.jsonl"


def sample_texts() -> list[str]:
    """Plain text of every post in the sample feed, whatever the platform's payload shape."""
    texts = []
    for line in SAMPLE_FEED.read_text(encoding="utf-8").splitlines():
        p = json.loads(line)["payload"]
        raw = (
            p.get("tweet", {}).get("text")
            or p.get("content")
            or p.get("record", {}).get("text")
            or p.get("body")
            or p.get("selftext")
            or p.get("title")
            or ""
        )
        text = re.sub(r"<[^>]+>", " ", html.unescape(raw)).strip()
        if text:
            texts.append(text)
    return texts


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    texts = sample_texts()
    langs = np.array([language_of(t) for t in texts])
    base = embed_base(texts)
    shift = base[langs == "en"].mean(0) - base[langs == "ja"].mean(0)
    proj = Projection.load(PROJECTION_FILE)
    proj.params["ja_shift"] = shift.astype(np.float32)
    proj.save(PROJECTION_FILE)
    log.info(
        "ja_shift from %d en / %d ja sample posts written to %s",
        (langs == "en").sum(),
        (langs == "ja").sum(),
        PROJECTION_FILE,
    )


if __name__ == "__main__":
    main()
