"""The brand-wide "stop all posting" switch, for a crisis.

It lives in the database (`Flag` "posting_paused"), so every worker on every machine sees it; every worker
reads it right before each platform call (see `responder.posting`). Only admins turn it on or off, and each
change is written to `FlagEvent` (who, when, why). Reconciliation lookups still run while posting is paused:
they only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from kikimimi import audit
from kikimimi.errors import PermissionDenied
from kikimimi.models import Flag, FlagEvent, Role, User
from kikimimi.timeutil import utcnow

POSTING_PAUSED = "posting_paused"


@dataclass(frozen=True)
class PauseState:
    paused: bool
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None


def posting_pause(session: Session) -> PauseState:
    """Whether posting is paused now, and by whom, when and why (read fresh from the database)."""
    flag = session.exec(
        select(Flag).where(Flag.name == POSTING_PAUSED).execution_options(populate_existing=True)
    ).first()
    if flag is None or not flag.enabled:
        return PauseState(False, flag.changed_by if flag else None, flag.changed_at if flag else None)
    return PauseState(True, flag.changed_by, flag.changed_at, flag.reason)


def is_posting_paused(session: Session) -> bool:
    return posting_pause(session).paused


def pause_posting(session: Session, actor: User, *, reason: str = "", now: datetime | None = None) -> PauseState:
    """Stop all posting now (an admin only); commits, so workers see it at their next platform call."""
    return _set(session, actor, True, reason, now or utcnow())


def resume_posting(session: Session, actor: User, *, reason: str = "", now: datetime | None = None) -> PauseState:
    """Let workers post again (an admin only); commits."""
    return _set(session, actor, False, reason, now or utcnow())


def pause_history(session: Session, limit: int = 20) -> list[FlagEvent]:
    """The newest changes of the switch first."""
    return list(
        session.exec(
            select(FlagEvent)
            .where(FlagEvent.name == POSTING_PAUSED)
            .order_by(col(FlagEvent.at).desc(), col(FlagEvent.id).desc())
            .limit(limit)
        )
    )


def _set(session: Session, actor: User, enabled: bool, reason: str, now: datetime) -> PauseState:
    action = "pause_posting" if enabled else "resume_posting"
    if actor.role != Role.admin or not actor.active:
        error = PermissionDenied(f"{actor.name} ({actor.role}) may not {'pause' if enabled else 'resume'} posting")
        raise audit.refused(session, actor, action, "flag", POSTING_PAUSED, error, now=now)
    audit.record(session, actor, action, "flag", POSTING_PAUSED, reason=reason or None, now=now)
    flag = session.get(Flag, POSTING_PAUSED) or Flag(name=POSTING_PAUSED)
    flag.enabled, flag.reason, flag.changed_by, flag.changed_at = enabled, reason or None, actor.name, now
    session.add(flag)
    session.add(FlagEvent(name=POSTING_PAUSED, enabled=enabled, actor=actor.name, reason=reason or None, at=now))
    session.commit()
    return posting_pause(session)
