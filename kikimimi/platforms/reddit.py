"""Reddit (praw / prawcore): the bounded client, for reading (script app) and replying (with the account's
password), prawcore's rate limiter capped by our settings, and what praw's exceptions mean."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import praw
import praw.exceptions
import prawcore
from prawcore.rate_limit import RateLimiter

from kikimimi.errors import PlatformError, RateLimited, TransientPlatformError
from kikimimi.platforms.http import DEFAULT_TIMEOUT, BoundedSession, Timeout, http_error_text, translate_transport_error
from kikimimi.platforms.retry import MAX_RATE_LIMIT_WAIT_SECONDS, Sleep, reset_from_seconds
from kikimimi.timeutil import utcnow

log = logging.getLogger(__name__)

PLATFORM = "reddit"
READ_CREDENTIALS = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")
POST_CREDENTIALS = (*READ_CREDENTIALS, "REDDIT_USERNAME", "REDDIT_PASSWORD")
CREDENTIAL_HELP = (
    "Reddit API access now needs Reddit's approval: request it (see https://www.reddit.com/wiki/api),"
    " then create a 'script' app at https://www.reddit.com/prefs/apps for its client id and secret."
)


def reddit_client(
    client_id: str,
    client_secret: str,
    user_agent: str,
    *,
    username: str | None = None,
    password: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    session: BoundedSession | None = None,
    sleep: Sleep = time.sleep,
    **urls: str,
) -> Any:
    """praw over our BoundedSession (prawcore asks for 16 s per request; the session holds it to `timeout`), its
    rate-limit sleeps capped (`cap_rate_limiter`). `username`/`password` sign in as the account (to reply);
    `urls` (oauth_url, reddit_url) are for local fakes."""
    account = {"username": username, "password": password} if username and password else {}
    reddit = praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        user_agent=user_agent,
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"timeout": max(timeout), "session": session or BoundedSession(*timeout)},
        **account,
        **urls,
    )
    cap_rate_limiter(reddit, sleep=sleep)
    return reddit


def translate_error(exc: Exception) -> Exception | None:
    """praw / prawcore exceptions → our tree; a 429 resets after `x-ratelimit-reset` (or `Retry-After`) seconds.
    praw's own API errors (Reddit answered and refused, e.g. a reply to a deleted comment) are refusals."""
    if isinstance(exc, praw.exceptions.RedditAPIException):
        if any(item.error_type == "RATELIMIT" for item in exc.items):
            return RateLimited(PLATFORM, message=f"rate limited: {exc}")
        return PlatformError(PLATFORM, f"refused: {exc}")
    if isinstance(exc, prawcore.TooManyRequests):
        headers = exc.response.headers
        reset = headers.get("x-ratelimit-reset") or exc.retry_after
        return RateLimited(PLATFORM, reset_from_seconds(reset))
    if isinstance(exc, prawcore.ServerError):
        return TransientPlatformError(PLATFORM, f"server error {exc.response.status_code}")
    if isinstance(exc, prawcore.RequestException):
        return TransientPlatformError(PLATFORM, f"network: {exc.original_exception!r}")
    if isinstance(exc, prawcore.OAuthException | prawcore.InvalidToken | prawcore.Forbidden):
        return PlatformError(PLATFORM, f"refused ({exc}); check REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET")
    if isinstance(exc, prawcore.Redirect | prawcore.NotFound):
        return PlatformError(PLATFORM, f"not found ({exc}): is every configured subreddit spelled right?")
    if isinstance(exc, prawcore.ResponseException):
        return PlatformError(PLATFORM, http_error_text(exc.response))
    if isinstance(exc, prawcore.PrawcoreException):
        return PlatformError(PLATFORM, str(exc))
    return translate_transport_error(PLATFORM, exc)


class CappedRateLimiter(RateLimiter):
    """prawcore's rate limiter, bounded: it never sleeps longer than our cap, whatever `x-ratelimit-reset` says
    (a longer wait becomes RateLimited, so the run records the reset and the next poll skips until then), and
    junk rate-limit headers are ignored instead of failing the request that carried them."""

    def __init__(self, *, window_size: int, sleep: Sleep = time.sleep, max_wait: float = MAX_RATE_LIMIT_WAIT_SECONDS):
        super().__init__(window_size=window_size)
        self.sleep = sleep
        self.max_wait = max_wait

    def delay(self) -> None:
        if self.next_request_timestamp_ns is None:
            return
        seconds = (self.next_request_timestamp_ns - time.monotonic_ns()) / 1e9
        if seconds <= 0:
            return
        if seconds > self.max_wait:
            raise RateLimited(PLATFORM, utcnow() + timedelta(seconds=min(seconds, 86_400.0)))
        self.sleep(seconds)

    def update(self, *, response_headers: Any) -> None:
        try:
            super().update(response_headers=response_headers)
        except (ValueError, TypeError, KeyError, OverflowError):
            log.warning("reddit: ignored unreadable rate-limit headers")


def cap_rate_limiter(reddit: Any, *, sleep: Sleep = time.sleep) -> None:
    """Give every prawcore session of `reddit` a CappedRateLimiter (praw builds one per authorizer)."""
    for name in ("_core", "_read_only_core", "_authorized_core"):
        core = getattr(reddit, name, None)
        limiter = getattr(core, "_rate_limiter", None)
        if isinstance(limiter, RateLimiter) and not isinstance(limiter, CappedRateLimiter):
            core._rate_limiter = CappedRateLimiter(window_size=limiter.window_size, sleep=sleep)  # type: ignore[union-attr]
        elif isinstance(limiter, CappedRateLimiter):
            limiter.sleep = sleep
