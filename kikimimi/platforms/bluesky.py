"""Bluesky (atproto): the bounded client, a session kept between polls (refreshed, not re-created), and what
atproto's exceptions mean.

Bluesky limits how many sessions an account may create per day, so `sign_in` resumes the stored session
(`SessionStore`: the session string atproto exports) while its refresh token is good, lets atproto refresh
the access token itself, and saves every new session string; it logs in with the app password only when
there is no usable stored session.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from kikimimi.errors import PlatformError, RateLimited, TransientPlatformError
from kikimimi.platforms.http import DEFAULT_TIMEOUT, Timeout
from kikimimi.text import short
from kikimimi.timeutil import utcnow

log = logging.getLogger(__name__)

PLATFORM = "bluesky"
READ_CREDENTIALS = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
POST_CREDENTIALS = READ_CREDENTIALS
CREDENTIAL_HELP = (
    "Use the brand's Bluesky handle and an app password from Settings → Privacy and security → App passwords"
    " (https://bsky.app/settings/app-passwords); never the account password."
)
REFRESH_MARGIN = timedelta(hours=1)  # a stored session whose refresh token expires sooner is not resumed


def _exceptions() -> Any:
    """atproto's exception module, imported when first needed: importing atproto takes seconds, and most
    processes (the dashboard, `kikimimi stats`, a run without Bluesky) never talk to Bluesky."""
    from atproto_client import exceptions

    return exceptions


def bluesky_client(*, timeout: Timeout = DEFAULT_TIMEOUT, base_url: str | None = None) -> Any:
    """atproto's client over an httpx client with our connect and read timeouts."""
    import atproto
    import atproto_client.request

    connect, read = timeout
    request = atproto_client.request.Request(timeout=httpx.Timeout(read, connect=connect))
    return atproto.Client(base_url, request=request)


class SessionStore(Protocol):
    """Where an account's exported session string is kept between processes (`kikimimi.platforms.sessions`)."""

    def load(self) -> str | None: ...

    def save(self, session_string: str) -> None: ...


def sign_in(
    client: Any, handle: str, password: str, store: SessionStore | None = None, *, fetch_profile: bool = True
) -> str:
    """Sign `client` in: resume the stored session when it is still good, else log in with the app password.
    Every session atproto creates or refreshes from here on is saved to `store`. Returns "resumed" or "login"."""
    if store is not None:

        def save(event: Any, session: Any) -> None:
            if str(getattr(event, "value", event)) in ("create", "refresh"):
                store.save(session.encode())

        client.on_session_change(save)
        stored = store.load()
        if stored and refresh_token_alive(stored):
            try:
                client.login(session_string=stored, fetch_bsky_profile=fetch_profile)
                return "resumed"
            except (ValueError, _exceptions().AtProtocolError) as exc:
                log.info("bluesky: the stored session could not be resumed (%s); logging in", short(exc, 120))
    client.login(handle, password, fetch_bsky_profile=fetch_profile)
    return "login"


def refresh_token_alive(session_string: str, now: datetime | None = None) -> bool:
    """Does the stored session's refresh token outlive the next hour (by the one clock)? Unreadable: no."""
    from atproto_client.client.session import Session
    from atproto_server.auth.jwt import get_jwt_payload

    try:
        expires = get_jwt_payload(Session.decode(session_string).refresh_jwt).exp
    except Exception:  # noqa: BLE001 - a damaged string is simply not resumable
        return False
    if not isinstance(expires, int | float):
        return False
    return datetime.fromtimestamp(expires, UTC) > (now or utcnow()) + REFRESH_MARGIN


def translate_error(exc: Exception) -> Exception | None:
    """atproto exceptions → our tree; a 429 resets at `ratelimit-reset` (Unix time)."""
    errors = _exceptions()
    if isinstance(exc, errors.RateLimitExceededError):
        try:
            reset_at = exc.reset_at
        except (ValueError, OverflowError, OSError, TypeError):  # a junk `ratelimit-reset` header
            reset_at = None
        return RateLimited(PLATFORM, reset_at)
    if isinstance(exc, errors.NetworkError):  # includes timeouts, 502, 409, 413
        return TransientPlatformError(PLATFORM, f"network: {exc}")
    if isinstance(exc, errors.UnauthorizedError):
        return PlatformError(PLATFORM, f"refused ({exc}); check BLUESKY_HANDLE / BLUESKY_APP_PASSWORD")
    if isinstance(exc, errors.RequestErrorBase):
        status = exc.response.status_code if exc.response is not None else 0
        if status >= 500:
            return TransientPlatformError(PLATFORM, f"server error {status}")
        return PlatformError(PLATFORM, str(exc))
    if isinstance(exc, errors.AtProtocolError):
        return PlatformError(PLATFORM, str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError):
        return TransientPlatformError(PLATFORM, f"network: {short(exc, 200)}")
    if isinstance(exc, ValueError | KeyError | TypeError | OverflowError):  # a body that is not JSON, say
        return PlatformError(PLATFORM, f"unreadable answer: {type(exc).__name__}: {short(exc, 200)}")
    return None
