"""Mastodon (Mastodon.py): the bounded client, the same for collecting and posting, and what Mastodon.py's
exceptions mean."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from mastodon import Mastodon
from mastodon import errors as mastodon_errors

from kikimimi.errors import PlatformError, RateLimited, TransientPlatformError
from kikimimi.platforms.http import DEFAULT_TIMEOUT, USER_AGENT, BoundedSession, Timeout, translate_transport_error
from kikimimi.platforms.retry import reset_from_seconds

PLATFORM = "mastodon"
READ_CREDENTIALS = ("MASTODON_API_BASE_URL", "MASTODON_ACCESS_TOKEN")
POST_CREDENTIALS = READ_CREDENTIALS
# The server version Mastodon.py assumes, instead of asking /api/v1/instance: every call used here works since
# 3.5, and Mastodon.py 2.3 recurses without end when that probe fails.
MASTODON_VERSION = "4.0.0"
CREDENTIAL_HELP = (
    "On the brand's Mastodon server open Preferences → Development → New application (scopes read, write:statuses),"
    " then set MASTODON_API_BASE_URL (e.g. https://mastodon.social) and the application's access token."
)


def mastodon_client(
    base_url: str, token: str, *, timeout: Timeout = DEFAULT_TIMEOUT, session: Any | None = None
) -> Mastodon:
    """A Mastodon.py client that never probes the server's version (a failing probe loops without end in
    Mastodon.py 2.3), throws on rate limits instead of sleeping, and times out (connect, read)."""
    return Mastodon(
        api_base_url=base_url,
        access_token=token,
        ratelimit_method="throw",
        version_check_mode="none",
        mastodon_version=MASTODON_VERSION,
        request_timeout=timeout,  # type: ignore[arg-type]  # requests takes (connect, read)
        session=session or BoundedSession(*timeout),
        user_agent=USER_AGENT,
    )


def translate_error(exc: Exception, client: Any = None) -> Exception | None:
    """Mastodon.py exceptions → our tree; on a 429 the client has parsed `X-RateLimit-Reset` into `ratelimit_reset`."""
    if isinstance(exc, mastodon_errors.MastodonRatelimitError):
        return RateLimited(PLATFORM, _reset_on_our_clock(getattr(client, "ratelimit_reset", None)))
    if isinstance(exc, mastodon_errors.MastodonServerError | mastodon_errors.MastodonNetworkError):
        return TransientPlatformError(PLATFORM, str(exc))
    if isinstance(exc, mastodon_errors.MastodonUnauthorizedError):
        return PlatformError(PLATFORM, f"refused ({exc}); check MASTODON_ACCESS_TOKEN and its scopes")
    if isinstance(exc, mastodon_errors.MastodonError):
        return PlatformError(PLATFORM, str(exc) or type(exc).__name__)
    return translate_transport_error(PLATFORM, exc)


def _reset_on_our_clock(library_reset: float | None) -> datetime | None:
    """Mastodon.py keeps the reset as an epoch on the local wall clock (corrected by the server's `Date`);
    what it means is "this many seconds from now", so carry that over to the one clock."""
    if not library_reset:
        return None
    return reset_from_seconds(float(library_reset) - time.time())
