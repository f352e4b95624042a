"""Retry policy shared by collectors and posters: capped, jittered back-off for transient faults; short
rate-limit waits.

Each collector and poster translates its client library's exceptions into `TransientPlatformError` / `RateLimited`
at the boundary; `call_with_retries` then decides whether to wait and try again or to give up.
Waiting on a rate limit happens only when the server said when it resets and that is soon; otherwise
`RateLimited` propagates so the runner records it and the next poll skips until the reset.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from kikimimi.errors import RateLimited, TransientPlatformError
from kikimimi.timeutil import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 4  # one call and up to three retries for timeouts, 5xx and connection errors
BACKOFF_BASE_SECONDS = 1.0  # first retry waits about this long ...
BACKOFF_CAP_SECONDS = 30.0  # ... doubling each time, never longer than this
MAX_RATE_LIMIT_WAIT_SECONDS = 60.0  # sleep through a rate limit only if it resets this soon

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full-jitter exponential back-off: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return (rng or random).uniform(0, ceiling)


def call_with_retries(
    call: Callable[[], T],
    *,
    translate: Callable[[Exception], Exception | None],
    sleep: Sleep = time.sleep,
    clock: Clock = utcnow,
    what: str = "request",
    max_attempts: int = MAX_ATTEMPTS,
    on_attempt: Callable[[], None] | None = None,
) -> T:
    """Run `call`; map library errors through `translate`, retry transient ones, wait out short rate limits.

    `translate` returns our exception for a library exception it recognises, or None to let it propagate.
    `on_attempt` is told of every request made, retries included (run records count them).
    """
    attempt = 0
    waited_for_limit = False
    while True:
        try:
            try:
                if on_attempt is not None:
                    on_attempt()
                return call()
            except (RateLimited, TransientPlatformError):
                raise
            except Exception as exc:  # noqa: BLE001 - translated at the boundary or re-raised as is
                ours = translate(exc)
                if ours is None:
                    raise
                raise ours from exc
        except RateLimited as exc:
            wait = (exc.reset_at - clock()).total_seconds() if exc.reset_at else None
            if waited_for_limit or wait is None or wait > MAX_RATE_LIMIT_WAIT_SECONDS:
                raise
            waited_for_limit = True
            log.info("%s: rate limited; the limit resets in %.0fs, waiting", what, wait)
            sleep(max(wait, 0.0) + 1.0)
        except TransientPlatformError as exc:
            attempt += 1
            if attempt >= max_attempts:
                raise
            delay = backoff_delay(attempt)
            log.warning("%s failed (%s); retry %d of %d in %.1fs", what, exc, attempt, max_attempts - 1, delay)
            sleep(delay)


class Attempts:
    """Counts requests (retries included) between pages, for `Page.requests`."""

    def __init__(self) -> None:
        self.count = 0

    def add(self) -> None:
        self.count += 1

    def take(self) -> int:
        """The requests made since the last `take`."""
        count, self.count = self.count, 0
        return count


def reset_from_epoch(value: str | int | float | None) -> datetime | None:
    """A rate-limit reset given as a Unix timestamp (X's `x-rate-limit-reset`, Mastodon's after parsing)."""
    try:
        return datetime.fromtimestamp(float(value), UTC) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def reset_from_seconds(value: str | int | float | None, clock: Clock = utcnow) -> datetime | None:
    """A rate-limit reset given as seconds from now (Reddit's `x-ratelimit-reset`, `Retry-After`)."""
    try:
        return clock() + timedelta(seconds=float(value)) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
