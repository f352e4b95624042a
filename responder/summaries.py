"""What the summaries the pipeline pass keeps (`responder.sla_facts`, `responder.hour_counts`) share: how far each
is built (`SummaryState`), and the lock a refresh takes while it clears the triggers' dirty marks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kikimimi.models import SummaryState


def state(session: Session, name: str) -> Any:
    """(through, fingerprint) of the summary `name`, read from the database (never a stale object), or None."""
    return session.exec(
        select(SummaryState.through, SummaryState.fingerprint).where(SummaryState.name == name)  # type: ignore[call-overload]
    ).first()


def save_state(session: Session, name: str, through: Any, mark: str) -> None:
    updated = session.execute(
        sa.update(SummaryState).where(col(SummaryState.name) == name).values(through=through, fingerprint=mark)
    )
    if not updated.rowcount:
        session.add(SummaryState(name=name, through=through, fingerprint=mark))
        session.flush()


def lock(session: Session, dirty_table: str) -> None:
    """On PostgreSQL, make writers' triggers wait the few statements of a refresh until it commits (SQLite has
    one writer at a time anyway), so no change is marked dirty while the refresh clears the marks."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"LOCK TABLE {dirty_table} IN SHARE ROW EXCLUSIVE MODE"))
