"""Reddit: the search and comment collector (praw), and the pure normaliser from things to posts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import praw
import prawcore

from kikimimi.errors import MalformedPayload, PlatformError, RateLimited, TransientPlatformError
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.settings import QueryConfig
from kikimimi.timeutil import parse_timestamp
from listener.base import BrandAccounts, Page
from listener.faults import Attempts, Sleep, call_with_retries, reset_from_seconds
from listener.query import compile_reddit, matches_terms, passes_filters, search_terms
from listener.window import Window, dump_windows, load_windows

log = logging.getLogger(__name__)

PLATFORM = "reddit"


def normalise_thing(payload: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """`payload` is {"kind": "submission"|"comment", "data": {...}}; ids are fullnames (t3_…, t1_…)."""
    try:
        kind, data = payload["kind"], payload["data"]
        fullname = data.get("name") or ("t3_" if kind == "submission" else "t1_") + data["id"]
        if kind == "submission":
            text = "\n\n".join(part for part in (data["title"], data.get("selftext") or "") if part)
            thread_id, parent = fullname, None
        elif kind == "comment":
            text, thread_id, parent = data["body"], data["link_id"], data["parent_id"]
        else:
            raise ValueError(f"unknown kind {kind!r}")
        created_at = parse_timestamp(data["created_utc"])
        author = data.get("author") or "[deleted]"
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"reddit: item {_id_of(payload)} is malformed: {exc!r}") from exc
    is_brand = brand.owns(PLATFORM, author)
    if is_brand:
        replyable, reason = False, "written by the brand"
    elif data.get("locked"):
        replyable, reason = False, "the thread is locked"
    elif data.get("archived"):
        replyable, reason = False, "the thread is archived"
    else:
        replyable, reason = True, "open thread"
    permalink = data.get("permalink") or ""
    return PostCreate(
        platform=PLATFORM,
        external_id=fullname,
        text=text,
        language=None,
        url=f"https://www.reddit.com{permalink}" if permalink else None,
        created_at=created_at,
        thread_id=thread_id,
        parent_external_id=parent,
        is_brand_reply=is_brand and parent is not None,
        visibility="public",
        replyable=replyable,
        replyable_reason=reason,
        raw=payload,
        author=AuthorCreate(
            platform=PLATFORM,
            external_id=data.get("author_fullname") or f"name:{author}",
            handle=author,
            display_name=author,
            followers_count=None,  # Reddit does not expose followers for ordinary accounts
            profile_url=f"https://www.reddit.com/user/{author}",
            is_brand=is_brand,
        ),
    )


def _id_of(payload: Any) -> str:
    try:
        return str(payload["data"].get("name") or payload["data"]["id"])
    except (KeyError, TypeError, AttributeError):
        return "?"


# --- the collector ------------------------------------------------------------------------------------

REDDIT_PAGE_SIZE = 100  # Reddit listings return at most 100 items per request
FIRST_POLL_MAX_PAGES = 1  # a query's first poll takes the newest page of each stream only
BACKFILL_MAX_PAGES = 10  # Reddit listings stop at about 1000 items anyway
# Reddit's search index lags behind new submissions: a poll keeps reading this far below the newest
# submission the last poll stored, so one indexed late is still found (the re-read ones are duplicates).
SEARCH_LAG_OVERLAP_SECONDS = 15 * 60
MAX_ATTEMPTS = 2  # prawcore already retries 5xx and connection errors twice, with its own jittered sleeps
KINDS = {"t3": "submission", "t1": "comment"}
CREDENTIAL_HELP = (
    "Reddit API access now needs Reddit's approval: request it (see https://www.reddit.com/wiki/api),"
    " then create a 'script' app at https://www.reddit.com/prefs/apps for its client id and secret."
)


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
                body = str((item.get("data") or {}).get("body") or "")
                return matches_terms(terms, body) and passes_filters(query, body)

            yield from self._stream("comments", f"r/{search.subreddits}/comments", {}, windows, backfill, wanted)

    def _stream(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        windows: dict[str, Window],
        backfill: bool,
        wanted: Any,
        overlap_seconds: float = 0,
    ) -> Iterator[Page]:
        window = windows.setdefault(key, Window())
        max_pages = BACKFILL_MAX_PAGES if backfill else (None if window.high else FIRST_POLL_MAX_PAGES)
        after, fetched = window.resume, 0
        while True:
            listing = self._get(path, {**params, "limit": str(self.page_size), **({"after": after} if after else {})})
            fetched += 1
            data = listing.get("data") if isinstance(listing, dict) else None
            children = (data or {}).get("children") or []
            items, reached_high = [], False
            for child in children:
                item = thing_payload(child)
                if _at_or_below(item, window.high):
                    created, floor = _created(item), (window.high_at or 0) - overlap_seconds
                    if not overlap_seconds or created is None or created < floor:
                        reached_high = True
                        break
                if wanted(item):
                    items.append(item)
            after = (data or {}).get("after")
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


def thing_payload(child: Any) -> dict[str, Any]:
    """A listing child ({"kind": "t3", "data": …}) in the normaliser's shape ({"kind": "submission", …})."""
    if not isinstance(child, dict):
        return {"kind": None, "data": child}
    return {"kind": KINDS.get(str(child.get("kind")), child.get("kind")), "data": child.get("data")}


def _fullname(item: dict[str, Any]) -> str | None:
    data = item.get("data")
    if not isinstance(data, dict):
        return None
    if data.get("name"):
        return str(data["name"])
    prefix = "t3_" if item.get("kind") == "submission" else "t1_"
    return prefix + str(data["id"]) if data.get("id") else None


def _at_or_below(item: dict[str, Any] | None, high: str | None) -> bool:
    """Is `item` no newer than `high` (ids only grow)? Unknown ids count as newer: the normaliser judges them."""
    number = _id_number(item) if item is not None else None
    return bool(high) and number is not None and number <= _base36(high)  # type: ignore[arg-type]


def _created(item: dict[str, Any] | None) -> float | None:
    data = (item or {}).get("data")
    try:
        return float(data["created_utc"]) if isinstance(data, dict) else None
    except (KeyError, TypeError, ValueError):
        return None


def _base36(fullname: str) -> int:
    return int(fullname.split("_", 1)[-1], 36)


def _id_number(item: dict[str, Any]) -> int | None:
    fullname = _fullname(item)
    try:
        return _base36(fullname) if fullname else None
    except ValueError:
        return None


def translate_error(exc: Exception) -> Exception | None:
    """prawcore exceptions → our tree; a 429 resets after `x-ratelimit-reset` (or `Retry-After`) seconds."""
    if isinstance(exc, prawcore.TooManyRequests):
        headers = exc.response.headers
        reset = headers.get("x-ratelimit-reset") or exc.retry_after
        return RateLimited(PLATFORM, reset_from_seconds(reset))
    if isinstance(exc, prawcore.ServerError | prawcore.RequestException):
        return TransientPlatformError(PLATFORM, str(exc))
    if isinstance(exc, prawcore.OAuthException | prawcore.InvalidToken | prawcore.Forbidden):
        return PlatformError(PLATFORM, f"refused ({exc}); check REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET")
    if isinstance(exc, prawcore.Redirect | prawcore.NotFound):
        return PlatformError(PLATFORM, f"not found ({exc}): is every configured subreddit spelled right?")
    if isinstance(exc, prawcore.PrawcoreException):
        return PlatformError(PLATFORM, str(exc))
    return None
