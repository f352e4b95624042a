"""Reddit: the search and comment collector (praw), and the pure normaliser from things to posts."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from typing import Any

import praw

from kikimimi.errors import MalformedPayload, PlatformError
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.platforms.reddit import CREDENTIAL_HELP, cap_rate_limiter, translate_error
from kikimimi.platforms.retry import Attempts, Sleep, call_with_retries
from kikimimi.settings import QueryConfig
from kikimimi.text import short
from listener import fields
from listener.base import BrandAccounts, Page
from listener.query import compile_reddit, matches_terms, passes_filters, search_terms
from listener.window import Window, dump_windows, load_windows

__all__ = ["CREDENTIAL_HELP", "RedditCollector", "gone_things", "normalise_thing", "thing_payload", "translate_error"]

log = logging.getLogger(__name__)

PLATFORM = "reddit"


def normalise_thing(payload: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """`payload` is {"kind": "submission"|"comment", "data": {...}}; ids are fullnames (t3_…, t1_…)."""
    where = f"reddit: item {_id_of(payload)}"
    payload = fields.mapping(payload, where)
    kind, data = payload.get("kind"), fields.mapping(payload.get("data"), where)
    if kind not in ("submission", "comment"):
        raise MalformedPayload(f"{where}: unknown kind {short(repr(kind), 40)}")
    prefix = "t3_" if kind == "submission" else "t1_"
    fullname = fields.optional_identifier(data.get("name"))
    if fullname is None:
        fullname = prefix + fields.identifier(data.get("id"), f"{where}: id")
    if kind == "submission":
        title = fields.text(data.get("title"), f"{where}: title")
        body = fields.optional_text(data.get("selftext")) or ""
        text = "\n\n".join(part for part in (title, body) if part)
        thread_id, parent = fullname, None
    else:
        text = fields.text(data.get("body"), f"{where}: body")
        thread_id = fields.identifier(data.get("link_id"), f"{where}: link_id")
        parent = fields.identifier(data.get("parent_id"), f"{where}: parent_id")
    created_at = fields.timestamp(data.get("created_utc"), f"{where}: created_utc")
    author = fields.optional_text(data.get("author")) or "[deleted]"
    is_brand = brand.owns(PLATFORM, author)
    if is_brand:
        replyable, reason = False, "written by the brand"
    elif data.get("locked"):
        replyable, reason = False, "the thread is locked"
    elif data.get("archived"):
        replyable, reason = False, "the thread is archived"
    else:
        replyable, reason = True, "open thread"
    permalink = fields.optional_text(data.get("permalink"))
    url = f"https://www.reddit.com{permalink}" if permalink and permalink.startswith("/") else None
    author_row = fields.build(
        lambda: AuthorCreate(
            platform=PLATFORM,
            external_id=fields.optional_identifier(data.get("author_fullname")) or f"name:{author}",
            handle=author,
            display_name=author,
            followers_count=None,  # Reddit does not expose followers for ordinary accounts
            profile_url=f"https://www.reddit.com/user/{author}",
            is_brand=is_brand,
        ),
        where,
    )
    return fields.build(
        lambda: PostCreate(
            platform=PLATFORM,
            external_id=fullname,
            text=text,
            language=None,
            url=url,
            created_at=created_at,
            thread_id=thread_id,
            parent_external_id=parent,
            is_brand_reply=is_brand and parent is not None,
            visibility="public",
            replyable=replyable,
            replyable_reason=reason,
            raw=payload,
            author=author_row,
        ),
        where,
    )


def _id_of(payload: Any) -> str:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return "?"
    value = fields.optional_identifier(data.get("name")) or fields.optional_identifier(data.get("id"))
    return value[:40] if value else "?"


# --- the collector ------------------------------------------------------------------------------------

REDDIT_PAGE_SIZE = 100  # Reddit listings return at most 100 items per request
FIRST_POLL_MAX_PAGES = 1  # a query's first poll takes the newest page of each stream only
BACKFILL_MAX_PAGES = 10  # Reddit listings stop at about 1000 items anyway
# Reddit's search index lags behind new submissions: a poll keeps reading this far below the newest
# submission the last poll stored, so one indexed late is still found (the re-read ones are duplicates).
SEARCH_LAG_OVERLAP_SECONDS = 15 * 60
# Comment ids are not in creation order within one second (16 inversions in 100 comments of a recorded 2023
# stream), and a comment may reach the listing after a newer one: the comment stream keeps reading past the
# newest comment the last poll stored while comments are from the same second (re-read ones are duplicates).
COMMENT_SAME_SECOND_OVERLAP_SECONDS = 1.0
MAX_ATTEMPTS = 2  # prawcore already retries 5xx and connection errors twice, with its own jittered sleeps
KINDS = {"t3": "submission", "t1": "comment"}


class RedditCollector:
    """Subreddit search (sort=new, lucene) for submissions, and the subreddits' comment listing for comments.

    `reddit` is a `praw.Reddit`; raw listings are read with `Reddit.request` so every item keeps the JSON
    Reddit sent. Listings run newest first: progress is a crash-safe `Window` per stream, resumed with
    `after` (a fullname) and stopped at the newest id the previous poll stored (ids only grow).
    """

    name = PLATFORM

    def __init__(
        self,
        reddit: praw.Reddit,
        brand: BrandAccounts,
        *,
        sleep: Sleep = time.sleep,
        page_size: int = REDDIT_PAGE_SIZE,
        comments: bool = True,
    ) -> None:
        self.reddit = reddit
        self.brand = brand
        self.sleep = sleep
        self.page_size = page_size
        self.comments = comments
        self.attempts = Attempts()
        cap_rate_limiter(reddit, sleep=sleep)

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]:
        handles = self.brand.handles.get(PLATFORM, ())
        search = compile_reddit(query, handles)
        windows = {} if backfill else load_windows(cursor)
        search_params = {"q": search.q, "sort": "new", "syntax": "lucene", "t": "all", "type": "link"}
        if search.subreddits != "all":
            search_params["restrict_sr"] = "1"
        yield from self._stream(
            "search", search.path, search_params, windows, backfill, lambda item: True, SEARCH_LAG_OVERLAP_SECONDS
        )
        if self.comments and search.subreddits != "all":  # the whole site's comment firehose is not a listing
            terms = search_terms(query, handles)

            def wanted(item: dict[str, Any]) -> bool:
                body = str(fields.optional_mapping(item.get("data")).get("body") or "")
                return matches_terms(terms, body) and passes_filters(query, body)

            yield from self._stream(
                "comments",
                f"r/{search.subreddits}/comments",
                {},
                windows,
                backfill,
                wanted,
                COMMENT_SAME_SECOND_OVERLAP_SECONDS,
                overlap_ends_with_page=True,
            )

    def _stream(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        windows: dict[str, Window],
        backfill: bool,
        wanted: Any,
        overlap_seconds: float = 0,
        overlap_ends_with_page: bool = False,
    ) -> Iterator[Page]:
        window = windows.setdefault(key, Window())
        max_pages = BACKFILL_MAX_PAGES if backfill else (None if window.high else FIRST_POLL_MAX_PAGES)
        after, fetched = window.resume, 0
        while True:
            listing = self._get(path, {**params, "limit": str(self.page_size), **({"after": after} if after else {})})
            fetched += 1
            if not isinstance(listing, dict):
                raise PlatformError(PLATFORM, f"{path} answered {type(listing).__name__}, not a listing")
            data = fields.optional_mapping(listing.get("data"))
            children = data.get("children") if isinstance(data.get("children"), list) else []
            items, reached_high = [], False
            for child in children:
                item = thing_payload(child)
                if _at_or_below(item, window.high):
                    # in the overlap: the rest of this page is read, no further page (same-second window)
                    reached_high = reached_high or overlap_ends_with_page
                    created, floor = _created(item), (window.high_at or 0) - overlap_seconds
                    if not overlap_seconds or created is None or created < floor:
                        reached_high = True
                        break
                if wanted(item):
                    items.append(item)
            after = fields.optional_text(data.get("after"))
            last = reached_high or not after or (max_pages is not None and fetched >= max_pages)
            first = thing_payload(children[0]) if children else None
            fresh = first is not None and not _at_or_below(first, window.high)
            window.seen_page(_fullname(first) if fresh else None, after, _created(first) if fresh else None)
            if last:
                window.finish()
            yield Page(items=items, cursor=dump_windows(windows), requests=self.attempts.take())
            if last:
                return

    def _get(self, path: str, params: dict[str, str]) -> Any:
        return call_with_retries(
            lambda: self.reddit.request(method="GET", path=path, params=params),
            translate=translate_error,
            sleep=self.sleep,
            what=f"reddit: {path}",
            max_attempts=MAX_ATTEMPTS,
            on_attempt=self.attempts.add,
        )

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        return normalise_thing(item, self.brand)

    deletion_batch_size = 100  # /api/info takes up to 100 fullnames

    def gone(self, external_ids: list[str]) -> dict[str, str]:
        """Which of these submissions and comments are deleted or removed now: one `/api/info` per 100."""
        listing = self._get("/api/info", {"id": ",".join(external_ids), "raw_json": "1"})
        return gone_things(listing, external_ids)


DELETED_MARKS = {"[deleted]": "deleted", "[removed]": "removed"}


def gone_things(listing: Any, asked: list[str]) -> dict[str, str]:
    """The fullnames `/api/info` shows deleted (by the author: `[deleted]`) or removed (by moderators:
    `[removed]`, `removed_by_category`), and those it no longer returns at all (deleted)."""
    if not isinstance(listing, dict):
        raise PlatformError(PLATFORM, f"/api/info answered {type(listing).__name__}, not a listing")
    children = fields.optional_mapping(listing.get("data")).get("children")
    seen: dict[str, dict[str, Any]] = {}
    for child in children if isinstance(children, list) else []:
        item = thing_payload(child)
        name = _fullname(item)
        if name and isinstance(item.get("data"), dict):
            seen[name] = item["data"]
    gone: dict[str, str] = {}
    for fullname in asked:
        data = seen.get(fullname)
        if data is None:
            gone[fullname] = "deleted"
            continue
        body = data.get("body") if fullname.startswith("t1_") else data.get("selftext")
        mark = DELETED_MARKS.get(str(body).strip()) if isinstance(body, str) else None
        if data.get("removed_by_category") or (mark == "removed"):
            gone[fullname] = "removed"
        elif mark == "deleted" or data.get("title") == "[deleted by user]":
            gone[fullname] = "deleted"  # (an author "[deleted]" alone is a closed account: the post stays)
    return gone


def thing_payload(child: Any) -> dict[str, Any]:
    """A listing child ({"kind": "t3", "data": …}) in the normaliser's shape ({"kind": "submission", …})."""
    if not isinstance(child, dict):
        return {"kind": None, "data": child}
    return {"kind": KINDS.get(str(child.get("kind")), child.get("kind")), "data": child.get("data")}


def _fullname(item: dict[str, Any]) -> str | None:
    data = item.get("data")
    if not isinstance(data, dict):
        return None
    name = fields.optional_identifier(data.get("name"))
    if name:
        return name
    prefix = "t3_" if item.get("kind") == "submission" else "t1_"
    number = fields.optional_identifier(data.get("id"))
    return prefix + number if number else None


def _at_or_below(item: dict[str, Any] | None, high: str | None) -> bool:
    """Is `item` no newer than `high` (ids only grow)? Unknown ids count as newer: the normaliser judges them."""
    number = _id_number(item) if item is not None else None
    return bool(high) and number is not None and number <= _base36(high)  # type: ignore[arg-type]


def _created(item: dict[str, Any] | None) -> float | None:
    data = (item or {}).get("data")
    try:
        value = float(data["created_utc"]) if isinstance(data, dict) else None
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return value if value is not None and math.isfinite(value) else None


def _base36(fullname: str) -> int:
    return int(fullname.split("_", 1)[-1], 36)


def _id_number(item: dict[str, Any]) -> int | None:
    fullname = _fullname(item)
    try:
        return _base36(fullname) if fullname else None
    except ValueError:
        return None
