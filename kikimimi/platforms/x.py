"""X (tweepy, API v2): the bounded client, for reading (app bearer token) and replying (user context), and
what tweepy's exceptions mean."""

from __future__ import annotations

from typing import Any

import tweepy

from kikimimi.errors import PlatformError, RateLimited, TransientPlatformError
from kikimimi.platforms.http import BoundedSession, Timeout, http_error_text, translate_transport_error
from kikimimi.platforms.retry import reset_from_epoch

PLATFORM = "x"
READ_CREDENTIALS = ("X_BEARER_TOKEN",)
POST_CREDENTIALS = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
CREDENTIAL_HELP = (
    "Create a project and app at https://developer.x.com (pay-per-use or Basic access includes recent search)"
    " and copy its Bearer Token."
)


def x_client(
    token: str | None = None,
    *,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    access_token: str | None = None,
    access_token_secret: str | None = None,
    timeout: Timeout | None = None,
    session: BoundedSession | None = None,
) -> Any:
    """tweepy's v2 client returning dicts, never sleeping on a rate limit. tweepy sends its requests without a
    timeout, so its session is a `BoundedSession` with ours. `token` is the app's bearer token (reading); the
    four user-context keys are for replying."""
    client = tweepy.Client(
        bearer_token=token,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        return_type=dict,
        wait_on_rate_limit=False,
    )
    client.session = session or (BoundedSession(*timeout) if timeout else BoundedSession())
    return client


def translate_error(exc: Exception) -> Exception | None:
    """tweepy / requests exceptions → our tree (429 carries the reset time from `x-rate-limit-reset`)."""
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.reset_time if exc.reset_time is not None else exc.response.headers.get("x-rate-limit-reset")
        return RateLimited(PLATFORM, reset_from_epoch(reset))
    if isinstance(exc, tweepy.TwitterServerError):
        return TransientPlatformError(PLATFORM, f"server error {exc.response.status_code}")
    if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
        return PlatformError(PLATFORM, f"refused ({exc}); check the X credentials and the app's access level")
    if isinstance(exc, tweepy.HTTPException):
        return PlatformError(PLATFORM, http_error_text(exc.response))
    return translate_transport_error(PLATFORM, exc)
