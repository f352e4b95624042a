"""The bundled sample feed has what `kikimimi demo` needs to show every feature."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from listener.sample_data import generate

FEED = generate.HERE / generate.FEED_NAME
META = generate.HERE / generate.META_NAME
BRAND_IDS = {
    "1500000000000000001",
    "t2_kmrb01",
    "did:plc:komorebitea000000000001",
    "109000000000000001",
}


def _load() -> list[tuple[dict[str, Any], dict[str, str]]]:
    rows = [json.loads(line) for line in FEED.read_text(encoding="utf-8").splitlines()]
    with META.open(encoding="utf-8", newline="") as fh:
        meta = list(csv.DictReader(fh))
    assert len(rows) == len(meta)
    return list(zip(rows, meta, strict=True))


@pytest.fixture(scope="module")
def feed() -> list[tuple[dict[str, Any], dict[str, str]]]:
    return _load()


def _parse(ts: str | float) -> datetime:
    if isinstance(ts, float):
        return datetime.fromtimestamp(ts, tz=UTC)
    return datetime.fromisoformat(ts)


def _info(row: dict[str, Any]) -> dict[str, Any]:
    """Platform-neutral view of one raw payload: id, author, display name, time, text, parent id."""
    p, platform = row["payload"], row["platform"]
    if platform == "x":
        t, u = p["tweet"], p["author"]
        refs = [r["id"] for r in t.get("referenced_tweets", []) if r["type"] == "replied_to"]
        return {
            "id": t["id"],
            "author": u["id"],
            "name": u["name"],
            "at": _parse(t["created_at"]),
            "text": t["text"],
            "parent": refs[0] if refs else None,
        }
    if platform == "reddit":
        d = p["data"]
        parent = d["parent_id"].split("_", 1)[1] if p["kind"] == "comment" else None
        text = d["title"] + " " + d["selftext"] if p["kind"] == "submission" else d["body"]
        return {
            "id": d["id"],
            "author": d["author_fullname"],
            "name": d["author"],
            "at": _parse(d["created_utc"]),
            "text": text,
            "parent": parent,
        }
    if platform == "bluesky":
        reply = p["record"].get("reply")
        return {
            "id": p["uri"],
            "author": p["author"]["did"],
            "name": p["author"]["displayName"],
            "at": _parse(p["record"]["createdAt"]),
            "text": p["record"]["text"],
            "parent": reply["parent"]["uri"] if reply else None,
        }
    text = re.sub(r"<[^>]+>", "", p["content"])
    return {
        "id": p["id"],
        "author": p["account"]["id"],
        "name": p["account"]["display_name"],
        "at": _parse(p["created_at"]),
        "text": text,
        "parent": p["in_reply_to_id"],
    }


def test_enough_customer_posts_in_both_languages_on_all_platforms(feed: list) -> None:
    customers = [(row, m) for row, m in feed if m["kind"] == "customer"]
    assert len(customers) >= 300
    langs = Counter(m["language"] for _, m in customers)
    assert langs["en"] / len(customers) >= 0.35 and langs["ja"] / len(customers) >= 0.35
    assert {row["platform"] for row, _ in customers} == {
        "x",
        "reddit",
        "bluesky",
        "mastodon",
    }
    assert Counter(m["kind"] for _, m in feed)["spam"] >= 8


def test_meta_rows_describe_the_feed_rows(feed: list) -> None:
    for row, m in feed:
        info = _info(row)
        assert m["platform"] == row["platform"] and m["external_id"] == info["id"]
        assert m["kind"] in {"customer", "brand_reply", "spam"}
        assert m["sentiment"] in {"negative", "neutral", "positive"}
        assert m["intent"] in generate.NEED_INTENT.values() or m["intent"] in {
            "complaint",
            "praise",
            "other",
        }
        assert (info["author"] in BRAND_IDS) == (m["kind"] == "brand_reply")


def test_spread_over_fourteen_days_with_a_negative_spike(feed: list) -> None:
    customers = [(_info(row), m) for row, m in feed if m["kind"] == "customer"]
    days = Counter(info["at"].date() for info, _ in customers)
    assert len(days) == 14
    assert min(days) == generate.START.date() and max(days) == generate.END.date()
    negative = Counter(info["at"].date() for info, m in customers if m["sentiment"] == "negative")
    spike_day, spike = negative.most_common(1)[0]
    assert spike_day == generate.SPIKE_DAY.date()
    others = [n for day, n in negative.items() if day != spike_day]
    assert spike >= 1.5 * max(others)


def test_authors_post_more_than_once_some_across_platforms(feed: list) -> None:
    posts = Counter((row["platform"], _info(row)["author"]) for row, m in feed if m["kind"] == "customer")
    assert sum(1 for n in posts.values() if n >= 2) >= 10
    platforms_by_name: dict[str, set[str]] = defaultdict(set)
    for row, m in feed:
        if m["kind"] == "customer":
            platforms_by_name[_info(row)["name"]].add(row["platform"])
    assert sum(1 for p in platforms_by_name.values() if len(p) >= 2) >= 3


def test_recurring_needs_are_asked_in_different_words_in_both_languages(
    feed: list,
) -> None:
    wordings: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row, m in feed:
        if m["kind"] == "customer" and m["need"]:
            assert m["is_question"] == "true"
            wordings[(m["need"], m["language"])].add(_info(row)["text"])
    needs = {need for need, _ in wordings}
    full = [n for n in needs if len(wordings[(n, "en")]) >= 5 and len(wordings[(n, "ja")]) >= 5]
    assert len(full) >= 8
    no_mark = [t for texts in wordings.values() for t in texts if "?" not in t and "？" not in t]
    assert len(no_mark) >= 20  # help requests without a question mark


def test_brand_replies_answer_earlier_posts_in_the_same_thread_and_language(
    feed: list,
) -> None:
    by_id = {(row["platform"], _info(row)["id"]): (row, m) for row, m in feed}
    delays = []
    for row, m in feed:
        if m["kind"] != "brand_reply":
            continue
        info = _info(row)
        parent_row, parent_meta = by_id[(row["platform"], info["parent"])]
        assert parent_meta["kind"] == "customer" and parent_meta["language"] == m["language"]
        delay = info["at"] - _info(parent_row)["at"]
        assert timedelta(minutes=5) <= delay <= timedelta(days=3)
        delays.append(delay)
    assert 50 <= len(delays) <= 70
    assert sum(d <= timedelta(minutes=15) for d in delays) >= 10
    assert sum(d > timedelta(hours=24) for d in delays) >= 3


def test_reply_permissions_are_represented(feed: list) -> None:
    x_customers = [row["payload"]["tweet"] for row, m in feed if row["platform"] == "x" and m["kind"] == "customer"]
    mentions = [t for t in x_customers if "@komorebi_tea" in t["text"]]
    assert mentions and all(t["entities"]["mentions"][0]["username"] == "komorebi_tea" for t in mentions)
    assert any(
        "木漏れ日ティー" in t["text"] or "komorebi tea" in t["text"].lower() for t in x_customers if t not in mentions
    )
    reddit = [row["payload"]["data"] for row, _ in feed if row["platform"] == "reddit"]
    assert any(d["locked"] for d in reddit)
    visibility = Counter(
        row["payload"]["visibility"] for row, m in feed if row["platform"] == "mastodon" and m["kind"] == "customer"
    )
    assert 3 <= visibility["direct"] <= 4


def test_ids_are_unique(feed: list) -> None:
    keys = [(row["platform"], _info(row)["id"]) for row, _ in feed]
    assert len(keys) == len(set(keys))


def test_generator_reproduces_the_file(tmp_path: Path) -> None:
    feed_path, meta_path = generate.write_feed(tmp_path)
    assert feed_path.read_bytes() == FEED.read_bytes()
    assert meta_path.read_bytes() == META.read_bytes()
