"""Leases: a named job that one process at a time may run, on SQLite and PostgreSQL alike (the FAQ regroup).

A lease is taken by one conditional UPDATE of its `Lease` row (free, expired, or already ours) and committed at
once, so every other process sees it; it lasts `seconds`, so a holder that crashed blocks the job no longer.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col

from kikimimi.db import insert_for
from kikimimi.models import Lease
from kikimimi.timeutil import utcnow


def process_id() -> str:
    """Unique per process and call: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take(session: Session, name: str, owner: str, *, seconds: float, now: datetime | None = None) -> bool:
    """Take lease `name` for `owner` unless another holder's lease is still running; commits; True if taken."""
    now = now or utcnow()
    session.commit()  # the lease is its own transaction: others must see it before we start the job
    session.execute(insert_for(session, Lease).values(name=name).on_conflict_do_nothing())
    taken = session.execute(
        update(Lease)
        .where(
            col(Lease.name) == name,
            or_(col(Lease.owner).is_(None), col(Lease.owner) == owner, col(Lease.expires_at) <= now),
        )
        .values(owner=owner, expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(taken)


def release(session: Session, name: str, owner: str, *, finished: bool) -> None:
    """Give lease `name` back (if still ours); `finished` records that the job ran to the end now. Commits."""
    values: dict = {"owner": None, "expires_at": None}
    if finished:
        values["finished_at"] = utcnow()
    session.execute(
        update(Lease)
        .where(col(Lease.name) == name, col(Lease.owner) == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def last_finished(session: Session, name: str) -> datetime | None:
    """When the job behind lease `name` last ran to the end (None: never)."""
    lease = session.get(Lease, name, populate_existing=True)
    return lease.finished_at if lease is not None else None


@dataclass
class Hold:
    """A lease held for a block; set `finished` when the job ran to the end (the schedule reads `finished_at`)."""

    owner: str
    finished: bool = False


@contextmanager
def held(session: Session, name: str, *, seconds: float) -> Iterator[Hold | None]:
    """Hold lease `name` for the block: yields a `Hold`, or None when another process holds the lease.

    On an error the transaction is rolled back and the lease given back, without recording a finished run.
    """
    hold = Hold(process_id())
    if not take(session, name, hold.owner, seconds=seconds):
        yield None
        return
    try:
        yield hold
    except BaseException:
        session.rollback()
        release(session, name, hold.owner, finished=False)
        raise
    release(session, name, hold.owner, finished=hold.finished)
