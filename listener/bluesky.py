"""Bluesky (atproto): the searchPosts collector, and the pure normaliser from post views to posts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kikimimi.errors import PlatformError
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.platforms.bluesky import CREDENTIAL_HELP, translate_error
from kikimimi.platforms.retry import Attempts, Sleep, call_with_retries
from kikimimi.settings import QueryConfig
from kikimimi.text import short
from kikimimi.timeutil import parse_timestamp
from listener import fields
from listener.base import BrandAccounts, Page
from listener.query import BlueskySearch, compile_bluesky, passes_filters
from listener.window import Window, dump_windows, load_windows

if TYPE_CHECKING:
    import atproto

__all__ = ["CREDENTIAL_HELP", "BlueskyCollector", "gone_posts", "normalise_post_view", "translate_error"]

log = logging.getLogger(__name__)

PLATFORM = "bluesky"


def normalise_post_view(view: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """Bluesky is an open API: any public post can be answered; the post URI is its id."""
    where = f"bluesky: post {_id_of(view)}"
    view = fields.mapping(view, where)
    uri = fields.identifier(view.get("uri"), f"{where}: uri")
    record = fields.mapping(view.get("record"), f"{where}: record")
    author = fields.mapping(view.get("author"), f"{where}: author")
    text = fields.text(record.get("text"), f"{where}: text")
    handle = fields.identifier(author.get("handle"), f"{where}: author handle")
    did = fields.identifier(author.get("did"), f"{where}: author did")
    created_at = fields.timestamp(record.get("createdAt"), f"{where}: createdAt")
    reply = fields.optional_mapping(record.get("reply"))
    is_brand = brand.owns(PLATFORM, handle)
    rkey = uri.rsplit("/", 1)[-1]
    declared = record.get("langs")
    langs = [lang for lang in declared if isinstance(lang, str) and lang] if isinstance(declared, list) else []
    author_row = fields.build(
        lambda: AuthorCreate(
            platform=PLATFORM,
            external_id=did,
            handle=handle,
            display_name=fields.optional_text(author.get("displayName")),
            followers_count=fields.count(author.get("followersCount")),
            profile_url=f"https://bsky.app/profile/{handle}",
            is_brand=is_brand,
        ),
        where,
    )
    return fields.build(
        lambda: PostCreate(
            platform=PLATFORM,
            external_id=uri,
            text=text,
            language=langs[0] if langs else None,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            created_at=created_at,
            thread_id=fields.optional_identifier(fields.optional_mapping(reply.get("root")).get("uri")) or uri,
            parent_external_id=fields.optional_identifier(fields.optional_mapping(reply.get("parent")).get("uri")),
            is_brand_reply=is_brand and bool(reply),
            visibility="public",
            replyable=not is_brand,
            replyable_reason="written by the brand" if is_brand else "public post",
            raw=view,
            author=author_row,
        ),
        where,
    )


def _id_of(view: Any) -> str:
    value = fields.optional_identifier(view.get("uri")) if isinstance(view, dict) else None
    return value[:120] if value else "?"


# --- the collector ------------------------------------------------------------------------------------

BLUESKY_PAGE_SIZE = 100  # searchPosts `limit` maximum
FIRST_POLL_MAX_PAGES = 1  # a query's first poll takes the newest page of each term only
BACKFILL_MAX_PAGES = 10
# A post reaches search a little after its createdAt (federation, indexing), and `since` compares the
# earlier of the two: each poll asks from this long before the newest post it stored (re-reads are duplicates).
SINCE_OVERLAP = timedelta(minutes=5)
SEARCH_NSID = "app.bsky.feed.searchPosts"
PROFILES_NSID = "app.bsky.actor.getProfiles"
POSTS_NSID = "app.bsky.feed.getPosts"
PROFILES_PER_REQUEST = 25  # getProfiles' `actors` maximum
FOLLOWER_CACHE_SIZE = 50_000  # authors whose count one collector remembers before it starts over


class BlueskyCollector:
    """`app.bsky.feed.searchPosts` (sort=latest) per compiled term, polling with `since` and paging with `cursor`.

    `client` is an `atproto.Client`; `login` (called once, lazily) signs it in. Pages are read as raw JSON
    through `invoke_query` rather than `search_posts`, whose strict model would reject a whole page for one
    malformed post. Results run newest first: progress is a crash-safe `Window` per term.
    """

    name = PLATFORM

    def __init__(
        self,
        client: atproto.Client,
        brand: BrandAccounts,
        *,
        login: Callable[[], Any] | None = None,
        sleep: Sleep = time.sleep,
        page_size: int = BLUESKY_PAGE_SIZE,
        fetch_follower_counts: bool = False,
    ) -> None:
        self.client = client
        self.brand = brand
        self.login = login
        self.sleep = sleep
        self.page_size = page_size
        self.fetch_follower_counts = fetch_follower_counts  # build_collector turns it on
        self._logged_in = login is None
        self._followers: dict[str, int | None] = {}  # did -> followersCount, asked once per collector
        self.attempts = Attempts()

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]:
        searches = compile_bluesky(query, self.brand.handles.get(PLATFORM, ()))
        windows = {} if backfill else load_windows(cursor)
        self._ensure_login()
        for search in searches:
            yield from self._term(query, search, windows, backfill)

    def _term(
        self, query: QueryConfig, search: BlueskySearch, windows: dict[str, Window], backfill: bool
    ) -> Iterator[Page]:
        window = windows.setdefault(search.key, Window())
        max_pages = BACKFILL_MAX_PAGES if backfill else (None if window.high else FIRST_POLL_MAX_PAGES)
        page_cursor, fetched = window.resume, 0
        while True:
            params = {**search.params, "limit": self.page_size}
            if window.high:
                since = parse_timestamp(window.high) - SINCE_OVERLAP
                params["since"] = since.isoformat().replace("+00:00", "Z")
            if page_cursor:
                params["cursor"] = page_cursor
            content = self._search(params)
            fetched += 1
            posts = content.get("posts") if isinstance(content, dict) else None
            posts = posts if isinstance(posts, list) else []
            page_cursor = fields.optional_text(content.get("cursor")) if isinstance(content, dict) else None
            last = not posts or not page_cursor or (max_pages is not None and fetched >= max_pages)
            window.seen_page(_sort_at(posts[0]) if posts else None, page_cursor)
            if last:
                window.finish()
            items = [p for p in posts if _wanted(query, p)]
            if self.fetch_follower_counts:
                self._add_follower_counts(items)
            yield Page(items=items, cursor=dump_windows(windows), requests=self.attempts.take())
            if last:
                return

    def _ensure_login(self) -> None:
        """Sign in once, before the first search; the request is counted with the first page."""
        if self._logged_in or self.login is None:
            return
        call_with_retries(
            self.login, translate=translate_error, sleep=self.sleep, what="bluesky: login", on_attempt=self.attempts.add
        )
        self._logged_in = True

    def _search(self, params: dict[str, Any]) -> Any:
        return self._query(SEARCH_NSID, _models().AppBskyFeedSearchPosts.Params(**params), "searchPosts")

    def _query(self, nsid: str, params: Any, name: str) -> dict[str, Any]:
        """One XRPC query read as plain JSON (an HTML page served with status 200 is an error), with retries."""

        def fetch() -> Any:
            content = self.client.invoke_query(nsid, params=params, output_encoding="application/json").content
            if not isinstance(content, dict):
                raise PlatformError(PLATFORM, f"{name} answered {_describe(content)}, not a JSON object")
            return content

        return call_with_retries(
            fetch, translate=translate_error, sleep=self.sleep, what=f"bluesky: {name}", on_attempt=self.attempts.add
        )

    def _add_follower_counts(self, views: list[Any]) -> None:
        """searchPosts' authors carry no follower count: ask `getProfiles` for them, 25 actors per request, each
        author once per collector, and add `followersCount` to each post view's author. A failed lookup costs the
        counts only, never the page."""
        authors = [v["author"] for v in views if isinstance(v, dict) and isinstance(v.get("author"), dict)]
        wanted = sorted(
            {
                a["did"]
                for a in authors
                if isinstance(a.get("did"), str) and "followersCount" not in a and a["did"] not in self._followers
            }
        )
        for start in range(0, len(wanted), PROFILES_PER_REQUEST):
            batch = wanted[start : start + PROFILES_PER_REQUEST]
            try:
                profiles = self._profiles(batch)
            except PlatformError as exc:
                log.warning("bluesky: follower counts unavailable for %d author(s): %s", len(batch), exc)
                break
            for did in batch:
                self._followers[did] = profiles.get(did)
        if len(self._followers) > FOLLOWER_CACHE_SIZE:
            self._followers.clear()
        for author in authors:
            count = self._followers.get(author.get("did"))  # type: ignore[arg-type]
            if count is not None and "followersCount" not in author:
                author["followersCount"] = count

    def _profiles(self, dids: list[str]) -> dict[str, int | None]:
        content = self._query(PROFILES_NSID, _models().AppBskyActorGetProfiles.Params(actors=dids), "getProfiles")
        counts: dict[str, int | None] = {}
        for profile in fields.items_of(content.get("profiles")):
            did, followers = profile.get("did"), profile.get("followersCount")
            if isinstance(did, str):
                counts[did] = followers if isinstance(followers, int) and not isinstance(followers, bool) else None
        return counts

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        return normalise_post_view(item, self.brand)

    deletion_batch_size = 25  # app.bsky.feed.getPosts takes up to 25 URIs

    def gone(self, external_ids: list[str]) -> dict[str, str]:
        """Which of these post URIs are deleted now: `getPosts` leaves a deleted post out of its answer."""
        self._ensure_login()
        content = self._query(POSTS_NSID, _models().AppBskyFeedGetPosts.Params(uris=external_ids), "getPosts")
        return gone_posts(content, external_ids)


def _models() -> Any:
    """atproto's request models, imported on the first query: importing atproto takes seconds, and a process
    that reads the sample feed or never polls Bluesky should not pay for it."""
    from atproto_client import models

    return models


def gone_posts(content: dict[str, Any], asked: list[str]) -> dict[str, str]:
    """The URIs a `getPosts` answer leaves out: deleted (a post hidden from us by a block is left out too)."""
    present = {p.get("uri") for p in fields.items_of(content.get("posts"))}
    return {uri: "deleted" for uri in asked if uri not in present}


def _describe(content: Any) -> str:
    if isinstance(content, bytes | bytearray):
        content = bytes(content[:80]).decode("utf-8", "replace")
    if isinstance(content, str):
        return f"text ({short(content[:80], 100)})"
    return f"a {type(content).__name__}"


def _sort_at(view: Any) -> str | None:
    """The earlier of indexedAt and createdAt (what searchPosts' `since` compares against), as ISO 8601."""
    try:
        stamps = [parse_timestamp(view["indexedAt"]), parse_timestamp(view["record"]["createdAt"])]
    except (KeyError, TypeError, ValueError, OverflowError, OSError, AttributeError):
        return None
    return min(stamps).isoformat().replace("+00:00", "Z")


def _wanted(query: QueryConfig, view: Any) -> bool:
    """Exclusions and a multi-language filter, which searchPosts cannot express; malformed views pass through."""
    record = view.get("record") if isinstance(view, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return True  # let the normaliser reject it with its id, so it is counted as an error
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    return passes_filters(query, record["text"], [lang for lang in langs if isinstance(lang, str)])
