"""A local stand-in for a platform, for posting trials and tests: no network, and it survives kill -9.

Its replies live in a SQLite file, so a worker killed right after the platform created a reply leaves the
reply behind, as a real platform would. It can be as unkind as real ones: a lookup that only sees replies
older than `lag` seconds (search indexes, listings and appviews lag), answers lost after the reply was created
(reset, 502), failures before anything was created (503), and latency that widens every race.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kikimimi.errors import PlatformError, TransientPlatformError
from kikimimi.models import Post


class FilePlatform:
    """A `Poster` for platform `platform` whose record of replies is the SQLite file at `path`.

    Like X, Reddit and Bluesky it has no idempotency key unless `idempotent=True` (then, like Mastodon, a
    second reply with the same key returns the first). `refuse` makes every reply a clear refusal (a 4xx).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        platform: str = "x",
        lag: float = 0.0,
        latency: float = 0.0,
        lose_answer: float = 0.0,
        fail_before: float = 0.0,
        refuse: str | None = None,
        idempotent: bool = False,
        seed: int | None = None,
    ) -> None:
        self.path, self.platform = Path(path), platform
        self.lag, self.latency = lag, latency
        self.lose_answer, self.fail_before, self.refuse = lose_answer, fail_before, refuse
        self.idempotent = idempotent
        self.lookup_lag_seconds = lag  # what it tells `LookupPolicy`, if the policy does not say
        self.rng = random.Random(seed)
        self.calls: list[str] = []  # "reply" / "find", in order (for tests)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS replies (id INTEGER PRIMARY KEY, parent TEXT, key TEXT, text TEXT,"
                " created REAL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # one transaction: committed, or rolled back on error
                yield db
        finally:
            db.close()

    def _wait(self) -> None:
        if self.latency:
            time.sleep(self.rng.uniform(0, self.latency))

    def reply(self, post: Post, text: str, *, idempotency_key: str) -> str:
        self.calls.append("reply")
        self._wait()
        if self.refuse:
            raise PlatformError(self.platform, self.refuse)
        if self.rng.random() < self.fail_before:
            raise TransientPlatformError(self.platform, "503 service unavailable (nothing was created)")
        with self._connect() as db:
            if self.idempotent:
                row = db.execute("SELECT id FROM replies WHERE key = ?", (idempotency_key,)).fetchone()
                if row:
                    return f"{self.platform}-{row[0]}"
            cur = db.execute(
                "INSERT INTO replies (parent, key, text, created) VALUES (?, ?, ?, ?)",
                (post.external_id, idempotency_key, text, time.monotonic()),
            )
            reply_id = cur.lastrowid
        self._wait()
        if self.rng.random() < self.lose_answer:
            raise TransientPlatformError(self.platform, "connection reset by peer (after the reply was created)")
        return f"{self.platform}-{reply_id}"

    def find_reply(self, post: Post, *, idempotency_key: str) -> str | None:
        """Our reply to `post`, as a lagging index shows it: only replies older than `lag` seconds."""
        self.calls.append("find")
        with self._connect() as db:
            row = db.execute(
                "SELECT id FROM replies WHERE parent = ? AND key = ? AND created <= ? ORDER BY id LIMIT 1",
                (post.external_id, idempotency_key, time.monotonic() - self.lag),
            ).fetchone()
        return f"{self.platform}-{row[0]}" if row else None

    def replies_per_key(self) -> Counter[str]:
        """How many replies the platform holds per idempotency key (more than one is a double)."""
        with self._connect() as db:
            return Counter(key for (key,) in db.execute("SELECT key FROM replies"))

    def reply_ids(self, key: str) -> list[str]:
        with self._connect() as db:
            return [f"{self.platform}-{i}" for (i,) in db.execute("SELECT id FROM replies WHERE key = ?", (key,))]
