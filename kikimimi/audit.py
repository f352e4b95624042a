"""The one audit table: every action a person took or tried, allowed or refused (`AuditEvent`).

An allowed action is recorded in the caller's transaction, so it is committed with the change it describes and
vanishes with it on a rollback. A refusal changed nothing, so nothing commits it: it is written in a transaction
of its own, on its own connection, where a rollback of the caller's work cannot erase it. SQLite allows one
writer at a time; when the caller's connection already holds the write lock, the refusal is attached to the
exception instead, and `settle()` (called by the dashboard and the CLI after their rollback) writes it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from kikimimi.models import AuditEvent, AuditOutcome, User
from kikimimi.timeutil import utcnow

log = logging.getLogger(__name__)
OPERATOR = "operator"  # the person at the server's command line, who can read and write the database anyway
_PENDING = "kikimimi_audit_pending"


def actor_name(actor: User | str) -> str:
    return actor if isinstance(actor, str) else actor.name


def record(
    session: Session,
    actor: User | str,
    action: str,
    target_kind: str,
    target_id: object = None,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Record an allowed action in the caller's transaction (committed with the change it describes)."""
    event = make_event(actor, action, target_kind, target_id, AuditOutcome.allowed, reason, now)
    session.add(event)
    return event


def refused(
    session: Session,
    actor: User | str,
    action: str,
    target_kind: str,
    target_id: object,
    error: Exception,
    *,
    now: datetime | None = None,
) -> Exception:
    """Record that `actor` was refused `action` (why: `error`), durably; returns `error` for the caller to raise."""
    event = make_event(actor, action, target_kind, target_id, AuditOutcome.refused, str(error), now)
    if _holds_sqlite_write_lock(session):
        setattr(error, _PENDING, event)  # written by settle() once the caller has rolled back
        return error
    _write_alone(_engine(session), event)
    return error


def settle(session: Session, error: BaseException) -> None:
    """After rolling back a refused request: write the refusal that could not be written while it held the lock."""
    event = getattr(error, _PENDING, None)
    if event is None:
        return
    delattr(error, _PENDING)
    _write_alone(_engine(session), event)


def history(
    session: Session,
    *,
    actor: str | None = None,
    outcome: AuditOutcome | None = None,
    action: str | None = None,
    target_kind: str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """The newest audit events first, optionally for one actor, outcome, action or kind of target."""
    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome.value)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if target_kind:
        stmt = stmt.where(AuditEvent.target_kind == target_kind)
    return list(session.exec(stmt.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)))


def make_event(
    actor: User | str,
    action: str,
    target_kind: str,
    target_id: object,
    outcome: AuditOutcome,
    reason: str | None,
    now: datetime | None,
) -> AuditEvent:
    return AuditEvent(
        at=now or utcnow(),
        actor=actor_name(actor),
        action=action,
        target_kind=target_kind,
        target_id=None if target_id is None else str(target_id),
        outcome=outcome.value,
        reason=(reason or None) and reason[:500],
    )


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _holds_sqlite_write_lock(session: Session) -> bool:
    if _engine(session).dialect.name != "sqlite" or not session.in_transaction():
        return False
    # pysqlite opens its transaction at the first INSERT/UPDATE/DELETE: open means this connection may write-lock
    return bool(session.connection().connection.driver_connection.in_transaction)  # type: ignore[union-attr]


def _write_alone(engine: Engine, event: AuditEvent) -> None:
    with Session(engine) as own:
        own.add(AuditEvent.model_validate(event.model_dump(exclude={"id"})))
        own.commit()
