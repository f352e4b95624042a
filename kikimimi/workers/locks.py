"""Named locks that span processes and machines: PostgreSQL advisory locks, held on a connection of their own.

A stage function that reads "what is left to do" and then writes it (drafting, FAQ placement, the search index,
one source's collection) must not run twice at once on the same rows. The lock lives on its own connection, so
it is held across the commits the stage makes, and PostgreSQL drops it when that connection dies: a worker
killed with SIGKILL leaves no lock behind. SQLite serialises writers itself and has a single machine, so there
the lock is a no-op (several workers want PostgreSQL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

NAMESPACE = "kikimimi:"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL's advisory lock space is one bigint)."""
    digest = hashlib.blake2b((NAMESPACE + name).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def advisory_lock(engine: Engine, name: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock `name` for the block; yields False (without waiting) when `wait` is off and it is taken."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with engine.connect() as conn:
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            got = True
        else:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()  # the lock is the session's, not the transaction's: end the transaction, keep the lock
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
