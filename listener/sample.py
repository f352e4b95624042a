"""The `sample` collector: replays the feed bundled with Kikimimi through the real normalisers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kikimimi.errors import MalformedPayload
from kikimimi.models import PostCreate
from kikimimi.settings import QueryConfig
from listener import bluesky, mastodon, reddit, x
from listener.base import BrandAccounts, Page

log = logging.getLogger(__name__)
BUNDLED_FEED = Path(__file__).parent / "sample_data" / "sample_feed.jsonl"
NORMALISERS: dict[str, Callable[[dict[str, Any], BrandAccounts], PostCreate]] = {
    "x": x.normalise_tweet,
    "reddit": reddit.normalise_thing,
    "bluesky": bluesky.normalise_post_view,
    "mastodon": mastodon.normalise_status,
}


class SampleCollector:
    """Pages through a JSONL file of {"platform": ..., "payload": ...}; the cursor is the line count read."""

    name = "sample"

    def __init__(self, brand: BrandAccounts, path: Path | None = None, page_size: int = 100) -> None:
        self.brand = brand
        self.path = path or BUNDLED_FEED
        self.page_size = page_size

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]:
        done = 0 if backfill or cursor is None else int(cursor)
        with self.path.open(encoding="utf-8") as fh:
            lines = fh.readlines()
        for start in range(done, len(lines), self.page_size):
            chunk = lines[start : start + self.page_size]
            items = []
            for number, line in enumerate(chunk, start=start + 1):
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    items.append({"platform": "?", "payload": None, "error": f"line {number}: {exc}"})
            yield Page(items=items, cursor=str(start + len(chunk)), requests=0)

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        normaliser = NORMALISERS.get(item.get("platform", ""))
        if normaliser is None or not isinstance(item.get("payload"), dict):
            raise MalformedPayload(item.get("error") or f"sample: unknown platform {item.get('platform')!r}")
        return normaliser(item["payload"], self.brand)
