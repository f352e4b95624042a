"""Measure the ingest path: posts/s through normalise → upsert into SQLite, and API requests per new post.

Throughput replays copies of the bundled sample feed (all four platforms' real payload shapes, each copy
with fresh ids) through `runner.collect`, so every page is normalised, upserted and committed with its
cursor exactly as in production. The request cost comes from a simulated day of polling: fake platform
clients that honour each API's paging semantics (X since_id/until_id/next_token, Reddit newest-first
listings with `after`, Bluesky inclusive `since` + cursor, Mastodon `min_id`) while new posts arrive at a
steady rate, driven through the real collectors.
"""

from __future__ import annotations

import copy
import json
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from kikimimi.db import get_engine, migrate
from kikimimi.models import PostCreate
from kikimimi.settings import EXAMPLE_CONFIG, QueryConfig, Settings, load_settings
from kikimimi.timeutil import parse_timestamp
from listener.base import BrandAccounts, Page
from listener.registry import brand_accounts
from listener.runner import collect, ensure_target
from listener.sample import BUNDLED_FEED, NORMALISERS

PAGE_SIZE = 100  # items per page in the throughput replay (the platforms' usual maximum)
START = datetime(2026, 11, 1, tzinfo=UTC)


# --- throughput ----------------------------------------------------------------------------------------


def _feed() -> list[dict[str, Any]]:
    return [json.loads(line) for line in BUNDLED_FEED.read_text(encoding="utf-8").splitlines()]


def _with_new_id(item: dict[str, Any], n: int) -> dict[str, Any]:
    """A copy of a sample item whose platform id is unique for copy number `n`."""
    item = copy.deepcopy(item)
    p = item["payload"]
    if item["platform"] == "x":
        p["tweet"]["id"] = f"{p['tweet']['id']}{n:06d}"
    elif item["platform"] == "reddit":
        p["data"]["id"] = f"{p['data']['id']}{n:x}"
        p["data"]["name"] = f"{p['data']['name']}{n:x}"
    elif item["platform"] == "bluesky":
        p["uri"] = f"{p['uri']}{n:06d}"
    else:
        p["id"] = f"{p['id']}{n:06d}"
    return item


class _Replay:
    """A collector that replays prepared items in pages, as the sample collector does."""

    name = "bench"

    def __init__(self, items: list[dict[str, Any]], brand: BrandAccounts) -> None:
        self.items, self.brand = items, brand

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]:
        for start in range(0, len(self.items), PAGE_SIZE):
            yield Page(items=self.items[start : start + PAGE_SIZE], cursor=str(start + PAGE_SIZE), requests=0)

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        return NORMALISERS[item["platform"]](item["payload"], self.brand)


@dataclass
class Throughput:
    posts: int
    normalise_per_s: float
    store_new_per_s: float
    store_duplicates_per_s: float
    stored: int


def measure_throughput(posts: int, settings: Settings, workdir: Path) -> Throughput:
    """Time normalising alone, then normalise → upsert → commit of `posts` new posts, then the same posts again."""
    feed = _feed()
    items = [_with_new_id(feed[i % len(feed)], i // len(feed)) for i in range(posts)]
    brand = brand_accounts(settings)
    started = time.perf_counter()
    for item in items:
        NORMALISERS[item["platform"]](item["payload"], brand)
    normalise_s = time.perf_counter() - started
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    migrate(url)
    config = settings.brands[0]
    with Session(get_engine(url), expire_on_commit=False) as session:
        target = ensure_target(session, config, config.queries[0])
        session.commit()
        started = time.perf_counter()
        first = collect(session, _Replay(items, brand), target, backfill=True)
        new_s = time.perf_counter() - started
        started = time.perf_counter()
        collect(session, _Replay(items, brand), target, backfill=True)
        dup_s = time.perf_counter() - started
    return Throughput(posts, posts / normalise_s, posts / new_s, posts / dup_s, first.new_posts)


# --- simulated steady-state polling --------------------------------------------------------------------


@dataclass
class _Stream:
    """One searchable stream on a fake platform: posts newest last, each matching the query or not."""

    posts: list[dict[str, Any]] = field(default_factory=list)


class _World:
    """New posts arrive at a steady (Poisson) rate per stream; ids and times only grow."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = START
        self.interval = timedelta(minutes=5)
        self.next_id = 10**15
        self.templates: dict[str, list[dict[str, Any]]] = {}
        for row in _feed():
            if row["platform"] != "reddit" or row["payload"].get("kind") == "submission":
                self.templates.setdefault(row["platform"], []).append(row["payload"])

    def poisson(self, mean: float) -> int:
        count, threshold, product = 0, pow(2.718281828459045, -mean), self.rng.random()
        while product > threshold:
            count += 1
            product *= self.rng.random()
        return count

    def new_id(self) -> int:
        self.next_id += self.rng.randint(1, 50)
        return self.next_id

    def moments(self, count: int, interval: timedelta) -> list[datetime]:
        """`count` increasing times spread over the interval that just ended."""
        return [self.now - interval + interval * (i + 1) / (count + 1) for i in range(count)]

    def template(self, platform: str) -> dict[str, Any]:
        return copy.deepcopy(self.rng.choice(self.templates[platform]))


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeX:
    """`search_recent_tweets` with since_id / until_id / next_token over one growing stream."""

    def __init__(self, world: _World, rate: float) -> None:
        self.world, self.rate, self.stream, self.requests = world, rate, _Stream(), 0

    def tick(self) -> None:
        count = self.world.poisson(self.rate)
        for moment in self.world.moments(count, self.world.interval):
            payload = self.world.template("x")
            tweet_id = str(self.world.new_id())
            payload["tweet"].update(id=tweet_id, conversation_id=tweet_id, created_at=_ts(moment))
            self.stream.posts.append(payload)

    def search_recent_tweets(self, query: str, **params: Any) -> dict[str, Any]:
        self.requests += 1
        since, until = int(params.get("since_id") or 0), int(params.get("until_id") or 10**30)
        hits = [p for p in reversed(self.stream.posts) if since < int(p["tweet"]["id"]) < until]
        offset, size = int(params.get("next_token") or 0), int(params.get("max_results") or 100)
        page = hits[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0]["tweet"]["id"], oldest_id=page[-1]["tweet"]["id"])
        if offset + size < len(hits):
            meta["next_token"] = str(offset + size)
        if not page:
            return {"meta": meta}
        users = {p["author"]["id"]: p["author"] for p in page}
        return {"data": [p["tweet"] for p in page], "includes": {"users": list(users.values())}, "meta": meta}


class FakeReddit:
    """`request` for newest-first search and comment listings with `after`; comments mostly do not match."""

    def __init__(self, world: _World, submission_rate: float, comment_rate: float, comment_match: float) -> None:
        self.world, self.requests = world, 0
        self.rates = (submission_rate, comment_rate, comment_match)
        self.search, self.comments = _Stream(), _Stream()

    def tick(self) -> None:
        submission_rate, comment_rate, comment_match = self.rates
        for _ in range(self.world.poisson(submission_rate)):
            payload = self.world.template("reddit")
            sid = _b36(self.world.new_id())
            payload["data"].update(id=sid, name=f"t3_{sid}", created_utc=self.world.now.timestamp())
            self.search.posts.append({"kind": "t3", "data": payload["data"]})
        for _ in range(self.world.poisson(comment_rate)):
            cid = _b36(self.world.new_id())
            matches = self.world.rng.random() < comment_match
            body = "komorebi tea arrived fast, lovely sencha" if matches else "what's everyone steeping today?"
            data = {
                "id": cid,
                "name": f"t1_{cid}",
                "body": body,
                "author": f"user{cid}",
                "created_utc": self.world.now.timestamp(),
                "link_id": "t3_1qa011",
                "parent_id": "t3_1qa011",
                "permalink": f"/r/tea/comments/1qa011/x/{cid}/",
            }
            self.comments.posts.append({"kind": "t1", "data": data})

    def request(self, *, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        self.requests += 1
        stream = self.comments if path.endswith("/comments") else self.search
        newest_first = list(reversed(stream.posts))
        after = params.get("after")
        start = next((i + 1 for i, c in enumerate(newest_first) if c["data"]["name"] == after), 0) if after else 0
        size = int(params.get("limit") or 100)
        page = newest_first[start : start + size]
        more = start + size < len(newest_first)
        return {
            "kind": "Listing",
            "data": {"after": page[-1]["data"]["name"] if page and more else None, "children": page},
        }


class FakeBluesky:
    """`invoke_query(searchPosts)`: one stream per term, inclusive `since`, offset cursor."""

    def __init__(self, world: _World, rates: dict[str, float]) -> None:
        self.world, self.rates, self.requests = world, rates, 0
        self.streams = {term: _Stream() for term in rates}

    def tick(self) -> None:
        for term, rate in self.rates.items():
            for moment in self.world.moments(self.world.poisson(rate), self.world.interval):
                view = self.world.template("bluesky")
                view["uri"] = f"{view['uri'].rsplit('/', 1)[0]}/{self.world.new_id()}"
                view["record"]["createdAt"] = view["indexedAt"] = _ts(moment)
                self.streams[term].posts.append(view)

    def invoke_query(self, nsid: str, params: Any, **_: Any) -> SimpleNamespace:
        self.requests += 1
        stream = self.streams.get(params.q, _Stream())
        since = parse_timestamp(params.since) if params.since else None
        hits = [v for v in reversed(stream.posts) if since is None or parse_timestamp(v["indexedAt"]) >= since]
        offset, size = int(params.cursor or 0), int(params.limit or 25)
        page = hits[offset : offset + size]
        content: dict[str, Any] = {"posts": page}
        if offset + size < len(hits):
            content["cursor"] = str(offset + size)
        return SimpleNamespace(content=content)


class FakeMastodon:
    """Hashtag timeline, search and mentions, each paged forward with `min_id` (ids only grow)."""

    def __init__(self, world: _World, rates: dict[str, float]) -> None:
        self.world, self.rates, self.requests = world, rates, 0
        self.streams = {key: _Stream() for key in rates}
        self.ratelimit_reset = None

    def tick(self) -> None:
        for key, rate in self.rates.items():
            for _ in range(self.world.poisson(rate)):
                status = self.world.template("mastodon")
                status.update(id=str(self.world.new_id()), created_at=_ts(self.world.now))
                if key == "mentions":
                    status = {"id": str(self.world.new_id()), "type": "mention", "status": status}
                self.streams[key].posts.append(status)

    def _page(self, key: str, limit: int = 40, min_id: str | None = None, max_id: str | None = None) -> list:
        self.requests += 1
        posts = self.streams.get(key, _Stream()).posts
        if min_id:
            newer = [p for p in posts if int(p["id"]) > int(min_id)]
            return list(reversed(newer[:limit]))
        older = [p for p in posts if not max_id or int(p["id"]) < int(max_id)]
        return list(reversed(older[-limit:]))

    def timeline_hashtag(self, tag: str, **kw: Any) -> list:
        return self._page(f"tag:{tag}", **kw)

    def search_v2(self, q: str, resolve: bool = False, result_type: str | None = None, **kw: Any) -> dict:
        return {"statuses": self._page(f"search:{q}", **kw)}

    def notifications(self, types: list[str] | None = None, **kw: Any) -> list:
        return self._page("mentions", **kw)


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


@dataclass
class PollCost:
    platform: str
    polls: int
    requests: int
    new_posts: int
    duplicates: int
    items_seen: int

    @property
    def requests_per_new_post(self) -> float:
        return self.requests / self.new_posts if self.new_posts else float("inf")


def simulate_polling(settings: Settings, workdir: Path, *, polls: int, per_hour: float, seed: int) -> list[PollCost]:
    """Poll each platform `polls` times, 5 minutes apart, with about `per_hour` matching posts per hour each.

    The first poll only sets the cursors and is not counted (steady state). Matching posts are spread over
    each platform's streams the way a brand query spreads them (see the rates below).
    """
    from listener.bluesky import BlueskyCollector
    from listener.mastodon import MastodonCollector
    from listener.reddit import RedditCollector
    from listener.x import XCollector

    world = _World(seed)
    interval = world.interval
    per_poll = per_hour * interval.total_seconds() / 3600
    brand = brand_accounts(settings)
    config = settings.brands[0]
    query = config.queries[0]
    x_fake = FakeX(world, per_poll)
    reddit_fake = FakeReddit(world, per_poll * 0.5, comment_rate=per_poll * 10, comment_match=0.05)
    searches = _bluesky_searches(query, brand)
    bluesky_terms = {s.params["q"]: per_poll / len(searches) for s in searches}
    bluesky_fake = FakeBluesky(world, bluesky_terms)
    mastodon_fake = FakeMastodon(world, _mastodon_rates(query, brand, per_poll))
    fakes: dict[str, Any] = {"x": x_fake, "reddit": reddit_fake, "bluesky": bluesky_fake, "mastodon": mastodon_fake}
    no_sleep = lambda seconds: None  # noqa: E731 - the fakes never fail
    collectors = {
        "x": XCollector(x_fake, brand, sleep=no_sleep),  # type: ignore[arg-type]
        "reddit": RedditCollector(reddit_fake, brand, sleep=no_sleep),  # type: ignore[arg-type]
        "bluesky": BlueskyCollector(bluesky_fake, brand, sleep=no_sleep),  # type: ignore[arg-type]
        "mastodon": MastodonCollector(mastodon_fake, brand, sleep=no_sleep),  # type: ignore[arg-type]
    }
    url = f"sqlite:///{workdir / 'poll.sqlite3'}"
    migrate(url)
    costs = {p: PollCost(p, 0, 0, 0, 0, 0) for p in collectors}
    with Session(get_engine(url), expire_on_commit=False) as session:
        target = ensure_target(session, config, query)
        session.commit()
        for number in range(polls + 1):
            world.now += interval
            for platform, collector in collectors.items():
                fakes[platform].tick()
                run = collect(session, collector, target)
                if number == 0:
                    continue  # the first poll sets the cursor
                cost = costs[platform]
                cost.polls += 1
                cost.requests += run.requests
                cost.new_posts += run.new_posts
                cost.duplicates += run.duplicates
                cost.items_seen += run.items_seen
    return list(costs.values())


def _bluesky_searches(query: QueryConfig, brand: BrandAccounts) -> list[Any]:
    from listener.query import compile_bluesky

    return compile_bluesky(query, brand.handles.get("bluesky", ()))


def _mastodon_rates(query: QueryConfig, brand: BrandAccounts, per_poll: float) -> dict[str, float]:
    from listener.query import compile_mastodon

    keys = compile_mastodon(query, brand.handles.get("mastodon", ())).keys()
    return {key: per_poll / len(keys) for key in keys}


def run_benchmark(*, posts: int = 20_000, polls: int = 288, per_hour: float = 30.0, seed: int = 7) -> dict[str, Any]:
    """Both measurements on the packaged example brand, in a throwaway directory."""
    settings = load_settings(EXAMPLE_CONFIG)
    with tempfile.TemporaryDirectory(prefix="kikimimi-bench-") as tmp:
        throughput = measure_throughput(posts, settings, Path(tmp))
        costs = simulate_polling(settings, Path(tmp), polls=polls, per_hour=per_hour, seed=seed)
    return {
        "throughput": throughput.__dict__,
        "polling": {
            "polls": polls,
            "interval_minutes": 5,
            "matching_posts_per_hour": per_hour,
            "seed": seed,
            "platforms": [{**c.__dict__, "requests_per_new_post": round(c.requests_per_new_post, 3)} for c in costs],
        },
    }
