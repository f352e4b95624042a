"""HTTP for the platform clients: every request has a connect and a read timeout, and every odd answer
(an HTML error page, malformed JSON, a dropped connection) becomes our PlatformError with a short message.

tweepy and Mastodon.py take a `requests.Session`; `BoundedSession` gives every request it sends our timeouts
unless the caller set its own. prawcore takes a timeout of its own; atproto an httpx timeout.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import requests

from kikimimi.errors import PlatformError, TransientPlatformError
from kikimimi.text import short

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 10.0  # to open a connection to a platform
READ_TIMEOUT_SECONDS = 30.0  # between two bytes of an answer: a hung server fails after this, never hangs
USER_AGENT = "kikimimi/0.1 (social listening; +https://github.com/kikimimi)"
Timeout = tuple[float, float]  # (connect, read) seconds
DEFAULT_TIMEOUT: Timeout = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)


_NUMBER = re.compile(r"\s*\d{1,15}(?:\.\d{1,9})?\s*")
_ISO_TIME = re.compile(r"\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?\s*")
_HTTP_DATE = re.compile(r"\s*[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\s*")


def _readable_limit(value: str) -> bool:
    return len(value) <= 64 and bool(
        _NUMBER.fullmatch(value) or _ISO_TIME.fullmatch(value) or _HTTP_DATE.fullmatch(value)
    )


def drop_junk_rate_limit_headers(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """A response hook: rate-limit headers that are no number or time are removed before a client library
    parses them (tweepy, Mastodon.py and prawcore raise, or compute absurd waits, on a junk one)."""
    for name in [
        n for n in response.headers if "ratelimit" in n.lower().replace("-", "") or n.lower() == "retry-after"
    ]:
        if not _readable_limit(str(response.headers[name])):
            log.warning("ignored an unreadable %s header from %s", name, response.url.split("?")[0][:100])
            del response.headers[name]
    return response


class BoundedSession(requests.Session):
    """A requests.Session whose requests time out (connect, read) no later than ours, whatever the client
    library asked for, and whose responses never carry a rate-limit header a client library cannot read."""

    def __init__(self, connect: float = CONNECT_TIMEOUT_SECONDS, read: float = READ_TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.timeout = (connect, read)
        self.hooks["response"].append(drop_junk_rate_limit_headers)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["timeout"] = self.bounded(kwargs.get("timeout"))
        return super().request(method, url, *args, **kwargs)

    def bounded(self, timeout: Any) -> tuple[float, float]:
        """The caller's timeout, never longer than ours (prawcore always passes its own 16 s, say)."""
        connect, read = self.timeout
        if isinstance(timeout, int | float) and timeout > 0:
            return min(connect, timeout), min(read, timeout)
        if isinstance(timeout, tuple) and len(timeout) == 2 and all(isinstance(t, int | float) for t in timeout):
            return min(connect, timeout[0]), min(read, timeout[1])
        return connect, read


def http_error_text(response: Any) -> str:
    """What a failed answer said, in a line: its status and the start of its body (an HTML page stays short)."""
    if response is None:
        return "no answer"
    status = getattr(response, "status_code", "?")
    kind = str(getattr(response, "headers", {}).get("content-type", "")).split(";")[0] or "no content type"
    try:
        body = response.text[:400]
    except Exception:  # noqa: BLE001 - an undecodable body is still an error worth naming
        body = ""
    return short(f"HTTP {status} ({kind}): {body}", 300)


def translate_transport_error(platform: str, exc: Exception) -> Exception | None:
    """requests-level failures shared by tweepy, praw and Mastodon.py → our tree; None for anything else."""
    if isinstance(exc, requests.Timeout | requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return TransientPlatformError(platform, f"network: {short(exc, 200)}")
    if isinstance(exc, requests.exceptions.JSONDecodeError | json.JSONDecodeError):
        return PlatformError(platform, f"the answer is not JSON: {short(exc, 200)}")
    if isinstance(exc, requests.RequestException):
        return PlatformError(platform, f"request failed: {short(exc, 200)}")
    if isinstance(exc, ValueError | KeyError | TypeError | OverflowError):
        # raised inside a client library reading an answer (a junk rate-limit header, a body of the wrong shape)
        return PlatformError(platform, f"unreadable answer: {type(exc).__name__}: {short(exc, 200)}")
    return None
