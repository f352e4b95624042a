"""X (API v2): the recent-search collector, and the pure normaliser from tweets to posts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import requests
import tweepy

from kikimimi.errors import MalformedPayload, PlatformError, RateLimited, TransientPlatformError
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.settings import QueryConfig
from kikimimi.timeutil import parse_timestamp
from listener.base import BrandAccounts, Page
from listener.faults import Attempts, Sleep, call_with_retries, reset_from_epoch
from listener.query import compile_x
from listener.window import Window, dump_windows, load_windows

log = logging.getLogger(__name__)

PLATFORM = "x"


def normalise_tweet(payload: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """`payload` is {"tweet": <v2 tweet>, "author": <v2 user from includes.users>}.

    Since 2026, self-serve apps may reply only when the author @mentioned or quoted the brand's account.
    """
    try:
        tweet, user = payload["tweet"], payload["author"]
        tweet_id, text, username = str(tweet["id"]), tweet["text"], user["username"]
        created_at = parse_timestamp(tweet["created_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"x: tweet {_id_of(payload)} is malformed: {exc!r}") from exc
    referenced = {ref.get("type"): str(ref.get("id")) for ref in tweet.get("referenced_tweets") or []}
    mentions = {m.get("username", "").lower() for m in (tweet.get("entities") or {}).get("mentions") or []}
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
    return PostCreate(
        platform=PLATFORM,
        external_id=tweet_id,
        text=text,
        language=tweet.get("lang"),
        url=f"https://x.com/{username}/status/{tweet_id}",
        created_at=created_at,
        thread_id=str(tweet.get("conversation_id") or tweet_id),
        parent_external_id=referenced.get("replied_to"),
        is_brand_reply=is_brand and "replied_to" in referenced,
        visibility="public",
        replyable=replyable,
        replyable_reason=reason,
        raw=payload,
        author=AuthorCreate(
            platform=PLATFORM,
            external_id=str(user["id"]),
            handle=username,
            display_name=user.get("name"),
            followers_count=(user.get("public_metrics") or {}).get("followers_count"),
            profile_url=f"https://x.com/{username}",
            is_brand=is_brand,
        ),
    )


def _quoted_authors(payload: dict[str, Any]) -> list[str]:
    """Usernames of quoted tweets' authors, when the collector included them."""
    return [str(u) for u in payload.get("quoted_usernames") or []]


def _id_of(payload: Any) -> str:
    try:
        return str(payload["tweet"]["id"])
    except (KeyError, TypeError):
        return "?"


# --- the collector ------------------------------------------------------------------------------------

X_PAGE_SIZE = 100  # max_results for recent search (10..100)
FIRST_POLL_MAX_PAGES = 1  # reads are paid per post: a query's first poll takes the newest page only
BACKFILL_MAX_PAGES = 50  # --backfill reads at most this many pages of the 7 days recent search serves
TWEET_FIELDS = ["created_at", "lang", "conversation_id", "referenced_tweets", "entities", "author_id"]
USER_FIELDS = ["username", "name", "public_metrics"]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
CREDENTIAL_HELP = (
    "Create a project and app at https://developer.x.com (pay-per-use or Basic access includes recent search)"
    " and copy its Bearer Token."
)


class XCollector:
    """Recent search (API v2) through `tweepy.Paginator`, polling with `since_id`.

    `client` is a `tweepy.Client(bearer_token, return_type=dict)`; tests inject one whose HTTP session
    serves recorded responses. Pages arrive newest first, so progress is kept in a crash-safe `Window`.
    """

    name = PLATFORM

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
            meta = response.get("meta") or {}
            last = not meta.get("next_token") or (max_pages is not None and fetched >= max_pages)
            if last and meta.get("next_token"):
                log.info("x: query %r: stopped after %d page(s); older posts need --backfill", query.name, fetched)
            window.seen_page(meta.get("newest_id"), meta.get("oldest_id"))
            if last:
                window.finish()
            yield Page(items=tweets_with_authors(response), cursor=dump_windows(windows), requests=self.attempts.take())
            if last:
                return

    def _next(self, paginator: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
        def fetch() -> dict[str, Any] | None:
            return next(paginator, None)

        return call_with_retries(
            fetch, translate=translate_error, sleep=self.sleep, what="x: recent search", on_attempt=self.attempts.add
        )

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        return normalise_tweet(item, self.brand)


def tweets_with_authors(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Join each tweet of a v2 search page with its author (and quoted tweets' authors) from `includes`."""
    includes = response.get("includes") or {}
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    tweets = {str(t.get("id")): t for t in includes.get("tweets") or [] if isinstance(t, dict)}
    if response.get("errors"):
        log.debug("x: the page reported %d partial errors", len(response["errors"]))
    items = []
    for tweet in response.get("data") or []:
        if not isinstance(tweet, dict):
            items.append({"tweet": tweet, "author": None})
            continue
        quoted = [
            users.get(str(tweets.get(str(ref.get("id")), {}).get("author_id")), {}).get("username")
            for ref in tweet.get("referenced_tweets") or []
            if ref.get("type") == "quoted"
        ]
        items.append(
            {
                "tweet": tweet,
                "author": users.get(str(tweet.get("author_id"))),
                "quoted_usernames": [u for u in quoted if u],
            }
        )
    return items


def translate_error(exc: Exception) -> Exception | None:
    """tweepy / requests exceptions → our tree (429 carries the reset time from `x-rate-limit-reset`)."""
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.reset_time if exc.reset_time is not None else exc.response.headers.get("x-rate-limit-reset")
        return RateLimited(PLATFORM, reset_from_epoch(reset))
    if isinstance(exc, tweepy.TwitterServerError):
        return TransientPlatformError(PLATFORM, f"server error {exc.response.status_code}")
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return TransientPlatformError(PLATFORM, f"network: {exc}")
    if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
        return PlatformError(PLATFORM, f"refused ({exc}); check X_BEARER_TOKEN and the app's access level")
    if isinstance(exc, tweepy.HTTPException):
        return PlatformError(PLATFORM, str(exc))
    return None
