"""X (API v2): the recent-search collector, and the pure normaliser from tweets to posts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import tweepy

from kikimimi.errors import MalformedPayload, PlatformError
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.platforms.retry import Attempts, Sleep, call_with_retries
from kikimimi.platforms.x import CREDENTIAL_HELP, translate_error
from kikimimi.settings import QueryConfig
from listener import fields
from listener.base import BrandAccounts, Page
from listener.query import compile_x
from listener.window import Window, dump_windows, load_windows

__all__ = ["CREDENTIAL_HELP", "XCollector", "gone_tweets", "normalise_tweet", "translate_error", "tweets_with_authors"]

log = logging.getLogger(__name__)

PLATFORM = "x"


def normalise_tweet(payload: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """`payload` is {"tweet": <v2 tweet>, "author": <v2 user from includes.users, or None>}.

    Only the tweet's id and text are required: a page read without expansions (no `includes`) or without
    `tweet.fields` still stores every tweet, its author known by `author_id` or not at all, its time read
    from the id (a snowflake) when `created_at` is missing.
    Since 2026, self-serve apps may reply only when the author @mentioned or quoted the brand's account.
    """
    where = f"x: tweet {_id_of(payload)}"
    payload = fields.mapping(payload, where)
    tweet = fields.mapping(payload.get("tweet"), where)
    tweet_id = fields.identifier(tweet.get("id"), f"{where}: id")
    text = fields.text(tweet.get("text"), f"{where}: text")
    if tweet.get("created_at") is not None:
        created_at = fields.timestamp(tweet.get("created_at"), f"{where}: created_at")
    else:
        created_at = snowflake_time(tweet_id, where)
    user = fields.optional_mapping(payload.get("author"))
    author_id = fields.optional_identifier(user.get("id")) or fields.optional_identifier(tweet.get("author_id"))
    username = fields.optional_text(user.get("username"))
    referenced = {str(ref.get("type")): str(ref.get("id")) for ref in fields.items_of(tweet.get("referenced_tweets"))}
    entities = fields.optional_mapping(tweet.get("entities"))
    mentions = {m["username"].lower() for m in fields.items_of(entities.get("mentions")) if _is_text(m.get("username"))}
    is_brand = brand.owns(PLATFORM, username)
    mentioned = any(brand.owns(PLATFORM, m) for m in mentions)
    quoted = "quoted" in referenced and any(brand.owns(PLATFORM, h) for h in _quoted_authors(payload))
    if is_brand:
        replyable, reason = False, "written by the brand"
    elif mentioned or quoted:
        replyable, reason = (
            True,
            "the author mentioned the brand's account" if mentioned else "the author quoted the brand",
        )
    else:
        replyable, reason = False, "X API replies need an @mention or quote of the brand's account: reply by hand"
    metrics = fields.optional_mapping(user.get("public_metrics"))
    author = fields.build(
        lambda: AuthorCreate(
            platform=PLATFORM,
            external_id=author_id or f"unknown:{tweet_id}",  # one placeholder per tweet: never merges two people
            handle=username or (f"id:{author_id}" if author_id else "unknown"),
            display_name=fields.optional_text(user.get("name")),
            followers_count=fields.count(metrics.get("followers_count")),
            profile_url=f"https://x.com/{username}" if username else None,
            is_brand=is_brand,
        ),
        where,
    )
    return fields.build(
        lambda: PostCreate(
            platform=PLATFORM,
            external_id=tweet_id,
            text=text,
            language=fields.optional_text(tweet.get("lang")),
            url=f"https://x.com/{username}/status/{tweet_id}" if username else f"https://x.com/i/web/status/{tweet_id}",
            created_at=created_at,
            thread_id=fields.optional_identifier(tweet.get("conversation_id")) or tweet_id,
            parent_external_id=referenced.get("replied_to"),
            is_brand_reply=is_brand and "replied_to" in referenced,
            visibility="public",
            replyable=replyable,
            replyable_reason=reason,
            raw=payload,
            author=author,
        ),
        where,
    )


SNOWFLAKE_EPOCH_MS = 1288834974657  # X ids since November 2010 carry their creation time (ms) above bit 22
FIRST_SNOWFLAKE = 2**32  # ids below this are older, sequential ones without a time in them


def snowflake_time(tweet_id: str, where: str = "x: tweet") -> datetime:
    """The creation time encoded in a tweet id; MalformedPayload for ids that carry none."""
    if not tweet_id.isascii() or not tweet_id.isdigit() or int(tweet_id) < FIRST_SNOWFLAKE or len(tweet_id) > 20:
        raise MalformedPayload(f"{where}: no created_at, and the id carries no time")
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _quoted_authors(payload: dict[str, Any]) -> list[str]:
    """Usernames of quoted tweets' authors, when the collector included them."""
    quoted = payload.get("quoted_usernames")
    return [u for u in quoted if _is_text(u)] if isinstance(quoted, list) else []


def _id_of(payload: Any) -> str:
    tweet = payload.get("tweet") if isinstance(payload, dict) else None
    value = fields.optional_identifier(tweet.get("id")) if isinstance(tweet, dict) else None
    return value[:40] if value else "?"


# --- the collector ------------------------------------------------------------------------------------

X_PAGE_SIZE = 100  # max_results for recent search (10..100)
FIRST_POLL_MAX_PAGES = 1  # reads are paid per post: a query's first poll takes the newest page only
BACKFILL_MAX_PAGES = 50  # --backfill reads at most this many pages of the 7 days recent search serves
TWEET_FIELDS = ["created_at", "lang", "conversation_id", "referenced_tweets", "entities", "author_id"]
USER_FIELDS = ["username", "name", "public_metrics"]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]


class XCollector:
    """Recent search (API v2) through `tweepy.Paginator`, polling with `since_id`.

    `client` is a `tweepy.Client(bearer_token, return_type=dict)`; tests inject one whose HTTP session
    serves recorded responses. Pages arrive newest first, so progress is kept in a crash-safe `Window`.
    """

    name = PLATFORM
    min_page_size = 10  # recent search's smallest max_results

    def __init__(
        self,
        client: tweepy.Client,
        brand: BrandAccounts,
        *,
        sleep: Sleep = time.sleep,
        page_size: int = X_PAGE_SIZE,
    ) -> None:
        self.client = client
        self.brand = brand
        self.sleep = sleep
        self.page_size = page_size
        self.attempts = Attempts()

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]:
        search = compile_x(query, self.brand.handles.get(PLATFORM, ()))
        windows = {} if backfill else load_windows(cursor)
        window = windows.setdefault("search", Window())
        params: dict[str, Any] = {
            "max_results": self.page_size,
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
        }
        if window.high:
            params["since_id"] = window.high
        if window.resume:
            params["until_id"] = window.resume
        if backfill:
            max_pages = BACKFILL_MAX_PAGES
        else:
            max_pages = None if window.high else FIRST_POLL_MAX_PAGES
        paginator = iter(tweepy.Paginator(self.client.search_recent_tweets, search, **params))
        fetched = 0
        while True:
            response = self._next(paginator)
            if response is None:  # no further page (only when the previous page promised one)
                window.finish()
                yield Page(items=[], cursor=dump_windows(windows), requests=self.attempts.take())
                return
            fetched += 1
            if not isinstance(response, dict):
                raise PlatformError(PLATFORM, f"recent search answered {type(response).__name__}, not a JSON object")
            meta = fields.optional_mapping(response.get("meta"))
            next_token = fields.optional_text(meta.get("next_token"))
            last = not next_token or (max_pages is not None and fetched >= max_pages)
            if last and next_token:
                log.info("x: query %r: stopped after %d page(s); older posts need --backfill", query.name, fetched)
            newest, oldest = _page_bounds(response, meta)
            window.seen_page(newest, oldest)
            if last:
                window.finish()
            yield Page(items=tweets_with_authors(response), cursor=dump_windows(windows), requests=self.attempts.take())
            if last:
                return

    def _next(self, paginator: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
        kwargs = getattr(paginator, "kwargs", None)  # tweepy's PaginationIterator sends these with every request
        if isinstance(kwargs, dict):
            kwargs["max_results"] = self.page_size  # the runner lowers it near the end of the read budget

        def fetch() -> dict[str, Any] | None:
            return next(paginator, None)

        return call_with_retries(
            fetch, translate=translate_error, sleep=self.sleep, what="x: recent search", on_attempt=self.attempts.add
        )

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        return normalise_tweet(item, self.brand)

    deletion_batch_size = 100  # GET /2/tweets takes up to 100 ids

    def gone(self, external_ids: list[str]) -> dict[str, str]:
        """Which of these tweets are deleted or protected now: one `GET /2/tweets?ids=` per 100."""
        response = call_with_retries(
            lambda: self.client.get_tweets(ids=external_ids, tweet_fields=["id"]),
            translate=translate_error,
            sleep=self.sleep,
            what="x: tweet lookup",
            on_attempt=self.attempts.add,
        )
        return gone_tweets(response)


def gone_tweets(response: Any) -> dict[str, str]:
    """The ids a tweet lookup reported as gone: "Not Found Error" (deleted) or "Authorization Error" (protected:
    made private). A tweet in `data`, or one the answer does not mention, is left alone."""
    if not isinstance(response, dict):
        raise PlatformError(PLATFORM, f"tweet lookup answered {type(response).__name__}, not a JSON object")
    found = {str(t.get("id")) for t in fields.items_of(response.get("data"))}
    gone: dict[str, str] = {}
    for error in fields.items_of(response.get("errors")):
        ident = fields.optional_identifier(error.get("resource_id")) or fields.optional_identifier(error.get("value"))
        if not ident or ident in found or error.get("resource_type", "tweet") != "tweet":
            continue
        kind = f"{error.get('title', '')} {error.get('type', '')}".lower()
        if "not found" in kind or "resource-not-found" in kind:
            gone[ident] = "deleted"
        elif "authorization" in kind or "not-authorized" in kind:
            gone[ident] = "made private"
    return gone


def tweets_with_authors(response: Any) -> list[Any]:
    """Join each tweet of a v2 search page with its author (and quoted tweets' authors) from `includes`.

    A page without `includes` (no expansions) still gives every tweet, with `author` None; an entry that is no
    object is passed on as it is, for the normaliser to refuse and the runner to quarantine.
    """
    includes = fields.optional_mapping(response.get("includes"))
    users = {str(u.get("id")): u for u in fields.items_of(includes.get("users"))}
    tweets = {str(t.get("id")): t for t in fields.items_of(includes.get("tweets"))}
    if response.get("errors"):
        log.debug("x: the page reported partial errors")
    data = response.get("data")
    items: list[Any] = []
    for tweet in data if isinstance(data, list) else []:
        if not isinstance(tweet, dict):
            items.append({"tweet": tweet, "author": None})
            continue
        quoted = [
            fields.optional_mapping(users.get(str(tweets.get(str(ref.get("id")), {}).get("author_id")))).get("username")
            for ref in fields.items_of(tweet.get("referenced_tweets"))
            if ref.get("type") == "quoted"
        ]
        items.append(
            {
                "tweet": tweet,
                "author": users.get(str(tweet.get("author_id"))),
                "quoted_usernames": [u for u in quoted if _is_text(u)],
            }
        )
    return items


def _page_bounds(response: dict[str, Any], meta: dict[str, Any]) -> tuple[str | None, str | None]:
    """The newest and oldest tweet ids of a page (from `meta`, else from the tweets); only numeric ids count,
    so a junk `newest_id` can never become a `since_id` that skips tweets or fails every later poll."""
    ids = [t.get("id") for t in fields.items_of(response.get("data"))]
    numbers = [int(i) for i in (str(v) for v in ids if isinstance(v, str | int)) if i.isascii() and i.isdigit()]

    def numeric(value: Any, fallback: int | None) -> str | None:
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if text.isascii() and text.isdigit() and len(text) <= 20:
            return text
        return str(fallback) if fallback is not None else None

    return (
        numeric(meta.get("newest_id"), max(numbers) if numbers else None),
        numeric(meta.get("oldest_id"), min(numbers) if numbers else None),
    )
