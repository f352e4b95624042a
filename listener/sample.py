"""The `sample` collector: replays the feed bundled with Kikimimi through the real normalisers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from kikimimi.errors import MalformedPayload
from kikimimi.models import PostCreate
from kikimimi.settings import QueryConfig
from kikimimi.timeutil import utcnow
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
    """Pages through a JSONL file of {"platform": ..., "payload": ...}, re-based to end at the first poll.

    The bundled feed is fixed (two weeks in November 2026), but a demo should be about now: FAQ growth, first
    response times and abandonment only mean something for recent posts. So the first poll moves every
    timestamp by the whole number of days that brings the feed's last post into the 24 hours before that
    moment (whole days, so each day's posts stay on one day in every time zone and the feed's spike stays one
    spike), and keeps the shift in the cursor (`"<lines read>@+<days>d"`): later polls shift alike, and
    a rerun stores nothing twice. The raw payloads keep the file's own timestamps.
    """

    name = "sample"

    def __init__(self, brand: BrandAccounts, path: Path | None = None, page_size: int = 100) -> None:
        self.brand = brand
        self.path = path or BUNDLED_FEED
        self.page_size = page_size

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]:
        with self.path.open(encoding="utf-8") as fh:
            items = [_item(number, line) for number, line in enumerate(fh, start=1)]
        if backfill or cursor is None:
            done, days = 0, self._days_to_now(items)
        else:
            done, days = _parse_cursor(cursor)
        for start in range(done, len(items), self.page_size):
            chunk = [{**item, "shift_days": days} for item in items[start : start + self.page_size]]
            yield Page(items=chunk, cursor=f"{start + len(chunk)}@{days:+d}d", requests=0)

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        normaliser = NORMALISERS.get(item.get("platform", ""))
        if normaliser is None or not isinstance(item.get("payload"), dict):
            raise MalformedPayload(item.get("error") or f"sample: unknown platform {item.get('platform')!r}")
        post = normaliser(item["payload"], self.brand)
        days = item.get("shift_days", 0)
        return post.model_copy(update={"created_at": post.created_at + timedelta(days=days)}) if days else post

    def _days_to_now(self, items: list[dict[str, Any]]) -> int:
        """Whole days that move the feed's latest post into the 24 hours before now (0 if none is readable)."""
        latest = None
        for item in items:
            try:
                created = self.normalise(item).created_at
            except MalformedPayload:
                continue
            latest = created if latest is None or created > latest else latest
        return 0 if latest is None else (utcnow() - latest) // timedelta(days=1)


def _parse_cursor(cursor: str) -> tuple[int, int]:
    """Lines read and the days the feed was moved by (a cursor from before re-basing: never moved)."""
    lines, _, days = cursor.partition("@")
    return int(lines), int(days.removesuffix("d") or 0)


def _item(number: int, line: str) -> dict[str, Any]:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return {"platform": "?", "payload": None, "error": f"line {number}: {exc}"}
