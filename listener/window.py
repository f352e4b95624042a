"""Crash-safe progress through search results that arrive newest first (X, Reddit, Bluesky).

A poll reads from the newest result back to what the previous poll stored (`high`). Moving `high` after
the first page would lose the older pages if the process died before reading them, so while a poll is in
progress the cursor keeps the old `high`, the newest id seen so far (`newest`) and where to resume
(`resume`: an `until_id`, an `after` fullname, an opaque page cursor). Only the poll's last page sets
`high = newest`. The whole position is one JSON string in `Cursor.position`, one window per stream.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass
class Window:
    """Where one newest-first stream stands."""

    high: str | None = None  # newest item stored by the last finished poll: fetch only newer ones
    newest: str | None = None  # newest item seen by the poll in progress
    resume: str | None = None  # where the poll in progress stopped reading older pages
    high_at: float | None = None  # creation time (Unix) of `high`, where a stream re-reads an overlap
    newest_at: float | None = None

    @property
    def in_progress(self) -> bool:
        return self.resume is not None

    def seen_page(self, newest: str | None, resume: str | None, newest_at: float | None = None) -> None:
        """Record a stored page: the first page of a poll fixes `newest`; every page moves `resume`."""
        if self.newest is None:
            self.newest, self.newest_at = newest, newest_at
        self.resume = resume

    def finish(self) -> None:
        """The poll reached `high` (or the end): later polls fetch only what is newer than this one's newest."""
        if self.newest is not None:
            self.high, self.high_at = self.newest, self.newest_at
        self.newest = self.resume = self.newest_at = None


def load_windows(position: str | None) -> dict[str, Window]:
    """Parse a cursor position into windows by stream key; an unreadable or legacy position starts afresh."""
    if not position:
        return {}
    try:
        data = json.loads(position)
        return {key: Window(**value) for key, value in data.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def dump_windows(windows: dict[str, Window]) -> str:
    return json.dumps({key: asdict(w) for key, w in sorted(windows.items())}, separators=(",", ":"))
