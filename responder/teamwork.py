"""Working the queue as a team: who has a post (assignment), who has a draft open (a soft edit lock), and the
team's internal notes on a post.

Roles are checked here, where the state changes, not by the page: responders may assign posts to themselves,
approvers and admins to anyone; responders and up write notes and take edit locks; viewers do neither. Every
change, allowed or refused, is in the audit table. An edit lock lives in the database (so every browser and
every dashboard process sees it) and expires `minutes` after its holder's last activity; while it is alive,
nobody else may approve the draft (`responder.workflow` checks it again at approval time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from kikimimi import audit
from kikimimi.errors import IllegalTransition, PermissionDenied
from kikimimi.models import Assignment, EditLock, Post, PostNote, ReplyDraft, Role, User
from kikimimi.timeutil import utcnow

TEAM = frozenset({Role.responder, Role.approver, Role.admin})  # may take posts, write notes, edit
DISPATCHERS = frozenset({Role.approver, Role.admin})  # may also hand posts to anyone
NOTE_LIMIT = 2000


def _may(session: Session, actor: User, roles: frozenset, action: str, kind: str, target: object, what: str) -> None:
    if actor.role not in roles or not actor.active:
        error = PermissionDenied(f"{actor.name} ({actor.role}) may not {what}")
        raise audit.refused(session, actor, action, kind, target, error)


def assign(session: Session, post_id: int, assignee: str | None, actor: User, *, now: datetime | None = None) -> None:
    """Give the post to `assignee` (a user's name), or take it back from whoever has it (None); commits."""
    own = assignee == actor.name or (assignee is None and _assignee(session, post_id) in (None, actor.name))
    if own:
        _may(session, actor, TEAM, "assign", "post", post_id, "take posts")
    else:
        _may(session, actor, DISPATCHERS, "assign", "post", post_id, "assign posts to others")
    if session.get(Post, post_id) is None:
        raise audit.refused(session, actor, "assign", "post", post_id, IllegalTransition(f"no post {post_id}"))
    if assignee is not None:
        person = session.exec(select(User).where(User.name == assignee)).first()
        if person is None or not person.active or person.role not in TEAM:
            error = IllegalTransition(f"{assignee!r} is not an active responder, approver or admin")
            raise audit.refused(session, actor, "assign", "post", post_id, error)
    row = session.get(Assignment, post_id)
    if assignee is None:
        if row is not None:
            session.delete(row)
    else:
        row = row or Assignment(post_id=post_id, assignee=assignee, assigned_by=actor.name)
        row.assignee, row.assigned_by, row.assigned_at = assignee, actor.name, now or utcnow()
        session.add(row)
    reason = f"to {assignee}" if assignee else "unassigned"
    audit.record(session, actor, "assign", "post", post_id, reason=reason, now=now)
    session.commit()


def _assignee(session: Session, post_id: int) -> str | None:
    row = session.get(Assignment, post_id)
    return row.assignee if row else None


def assignees(session: Session, post_ids: list[int]) -> dict[int, str]:
    """Who has each of these posts (unassigned posts are left out)."""
    if not post_ids:
        return {}
    rows = session.exec(select(Assignment).where(col(Assignment.post_id).in_(post_ids))).all()
    return {r.post_id: r.assignee for r in rows}


def team(session: Session) -> list[str]:
    """The names posts may be assigned to: active responders, approvers and admins."""
    roles = [r.value for r in TEAM]
    stmt = select(User.name).where(col(User.active), col(User.role).in_(roles)).order_by(col(User.name))
    return list(session.exec(stmt))


@dataclass(frozen=True)
class LockView:
    """What the editor shows: whether the reader holds the lock, or who else does and until when."""

    mine: bool
    holder: str | None = None
    expires_at: datetime | None = None


def live_lock(session: Session, draft_id: int, *, now: datetime | None = None) -> EditLock | None:
    """The draft's edit lock while it is alive (None once it expired or nobody holds one)."""
    lock = session.get(EditLock, draft_id, populate_existing=True)
    return lock if lock is not None and lock.expires_at > (now or utcnow()) else None


def open_for_edit(
    session: Session, draft_id: int, actor: User, *, minutes: float, now: datetime | None = None
) -> LockView:
    """`actor` has the draft open in the editor: take or renew the lock, unless someone else's is alive.

    One lock per person: opening a draft releases the others they held. Viewers take none (they cannot edit).
    Taking a lock is audited; renewing it (every redraw while they work) is not. Commits.
    """
    now = now or utcnow()
    held = live_lock(session, draft_id, now=now)
    if held is not None and held.holder != actor.name:
        return LockView(mine=False, holder=held.holder, expires_at=held.expires_at)
    if actor.role not in TEAM or not actor.active:
        return LockView(mine=False)
    session.execute(delete(EditLock).where(col(EditLock.holder) == actor.name, col(EditLock.draft_id) != draft_id))
    lock = session.get(EditLock, draft_id)
    taken = lock is None or lock.holder != actor.name or lock.expires_at <= now
    if lock is None:
        lock = EditLock(draft_id=draft_id, holder=actor.name, since=now, expires_at=now)
    if taken:
        lock.holder, lock.since = actor.name, now
        audit.record(session, actor, "open_for_edit", "draft", draft_id, now=now)
    lock.expires_at = now + timedelta(minutes=minutes)
    session.add(lock)
    session.commit()
    return LockView(mine=True, holder=actor.name, expires_at=lock.expires_at)


def release(session: Session, actor: User, draft_id: int | None = None) -> None:
    """`actor` closed the editor (of `draft_id`, or of every draft they had open); commits."""
    stmt = delete(EditLock).where(col(EditLock.holder) == actor.name)
    if draft_id is not None:
        stmt = stmt.where(col(EditLock.draft_id) == draft_id)
    session.execute(stmt)
    session.commit()


def editing_others(session: Session, draft_ids: list[int], actor: User, *, now: datetime | None = None) -> dict:
    """draft id -> name of whoever else has it open now (for the list's rows)."""
    if not draft_ids:
        return {}
    stmt = select(EditLock).where(col(EditLock.draft_id).in_(draft_ids), col(EditLock.expires_at) > (now or utcnow()))
    return {lock.draft_id: lock.holder for lock in session.exec(stmt) if lock.holder != actor.name}


def check_not_locked(session: Session, draft: ReplyDraft, actor_name: str, *, now: datetime) -> None:
    """Refuse to approve a draft someone else has open in the editor (they may be changing what is approved)."""
    lock = live_lock(session, draft.id, now=now)  # type: ignore[arg-type]
    if lock is not None and lock.holder != actor_name:
        raise IllegalTransition(
            f"{lock.holder} is editing this reply right now: wait until they are done "
            f"(their lock ends {lock.expires_at:%H:%M} UTC unless they keep working)"
        )


def add_note(session: Session, post_id: int, actor: User, text: str, *, now: datetime | None = None) -> PostNote:
    """An internal note on a post (never posted); commits."""
    _may(session, actor, TEAM, "add_note", "post", post_id, "write notes")
    text = (text or "").strip()
    if not text or len(text) > NOTE_LIMIT:
        error = IllegalTransition(f"a note needs 1 to {NOTE_LIMIT} characters")
        raise audit.refused(session, actor, "add_note", "post", post_id, error)
    if session.get(Post, post_id) is None:
        raise audit.refused(session, actor, "add_note", "post", post_id, IllegalTransition(f"no post {post_id}"))
    note = PostNote(post_id=post_id, author=actor.name, text=text, at=now or utcnow())
    session.add(note)
    audit.record(session, actor, "add_note", "post", post_id, now=now)
    session.commit()
    return note


def notes(session: Session, post_id: int) -> list[PostNote]:
    """The notes on a post, oldest first."""
    stmt = select(PostNote).where(PostNote.post_id == post_id).order_by(col(PostNote.at), col(PostNote.id))
    return list(session.exec(stmt))
