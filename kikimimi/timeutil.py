"""Timezone-aware UTC everywhere in storage; conversion happens only for display.

`utcnow()` is the one clock. Code that needs "now" calls it (or takes a `now` argument that defaults to
it); nothing reads the wall clock directly. Tests fix it with `set_clock`, and `KIKIMIMI_NOW` (an ISO 8601
instant) starts a whole process at a chosen moment — a subprocess under test, or a demo replayed as of a date.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from kikimimi.errors import ConfigError

__all__ = ["Clock", "as_utc", "parse_timestamp", "set_clock", "utcnow", "using_clock"]

NOW_VARIABLE = "KIKIMIMI_NOW"


class Clock:
    """A clock that starts at `start` and then runs (or, when `frozen`, stands until moved)."""

    def __init__(self, start: datetime, *, frozen: bool = False) -> None:
        self._start = as_utc(start)
        self._origin = time.monotonic()
        self.frozen = frozen

    def __call__(self) -> datetime:
        if self.frozen:
            return self._start
        return self._start + timedelta(seconds=time.monotonic() - self._origin)

    def advance(self, delta: timedelta) -> None:
        self._start += delta

    def set(self, at: datetime) -> None:
        self._start, self._origin = as_utc(at), time.monotonic()


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _initial_clock() -> Callable[[], datetime]:
    start = os.environ.get(NOW_VARIABLE, "").strip()
    if not start:
        return _wall_clock
    try:
        return Clock(parse_timestamp(start))
    except ValueError as exc:
        raise ConfigError(f"{NOW_VARIABLE}={start!r} is not an ISO 8601 instant ({exc})") from None


def utcnow() -> datetime:
    """Now, as an aware UTC datetime, from the process's one clock."""
    global _clock
    if _clock is None:
        _clock = _initial_clock()
    return _clock()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the process's clock (None: back to the default, the wall clock or `KIKIMIMI_NOW`)."""
    global _clock
    _clock = clock


@contextmanager
def using_clock(clock: Callable[[], datetime]) -> Iterator[Callable[[], datetime]]:
    """Run a block under another clock, then put the previous one back."""
    previous = _clock
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)  # None again if no clock had been read yet: resolved on the next read


def as_utc(value: datetime) -> datetime:
    """Attach UTC to a naive datetime (we only ever store UTC) or convert an aware one."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timestamp(value: str | float | int) -> datetime:
    """Parse an ISO 8601 string (with Z or offset) or a Unix epoch into an aware UTC datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(text))


_clock: Callable[[], datetime] | None = None  # resolved on first read, so a bad KIKIMIMI_NOW is a clear error
