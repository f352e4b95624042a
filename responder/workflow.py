"""The reply state machine, enforced here and nowhere else.

drafted → approved → posting → posted, with rejected and failed as exits. Only approvers approve;
editing an approved draft sends it back to drafted (approval is of one version). Every transition
writes a ReviewEvent: who, what, when, from which state to which.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from kikimimi.errors import ConcurrentChange, IllegalTransition, KikimimiError, PermissionDenied
from kikimimi.models import DraftState, ReplyDraft, ReviewEvent, Role, User
from kikimimi.timeutil import utcnow

SYSTEM = "system"  # the actor for posting transitions, which only the poster makes
S = DraftState


@dataclass(frozen=True)
class Rule:
    sources: frozenset[DraftState]
    target: DraftState | None  # None: stays in the same state (an edit of a drafted reply)
    roles: frozenset[Role | str]


_HUMAN_EDIT = frozenset({Role.responder, Role.approver, Role.admin})
_APPROVERS = frozenset({Role.approver, Role.admin})
RULES: dict[str, Rule] = {
    "edit": Rule(frozenset({S.drafted, S.approved}), S.drafted, _HUMAN_EDIT),
    "approve": Rule(frozenset({S.drafted}), S.approved, _APPROVERS),
    "reject": Rule(frozenset({S.drafted, S.approved, S.failed}), S.rejected, _APPROVERS),
    "retry": Rule(frozenset({S.failed}), S.approved, _APPROVERS),
    "start_posting": Rule(frozenset({S.approved}), S.posting, frozenset({SYSTEM})),
    "mark_posted": Rule(frozenset({S.posting}), S.posted, frozenset({SYSTEM})),
    "mark_failed": Rule(frozenset({S.posting}), S.failed, frozenset({SYSTEM})),
    "reconcile_unposted": Rule(frozenset({S.posting}), S.approved, frozenset({SYSTEM})),
}


def get_user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise KikimimiError(f"unknown user {name!r}: add one with `kikimimi users add NAME --role ROLE`")
    return user


def transition(
    session: Session,
    draft: ReplyDraft,
    action: str,
    actor: User | str,
    *,
    text: str | None = None,
    note: str | None = None,
) -> ReplyDraft:
    """Apply `action` to `draft` as `actor` (a User, or SYSTEM for the poster), or raise without changing it."""
    rule = RULES.get(action)
    if rule is None:
        raise IllegalTransition(f"unknown action {action!r}")
    actor_name, role = (SYSTEM, SYSTEM) if actor == SYSTEM else (actor.name, actor.role)  # type: ignore[union-attr]
    if role not in rule.roles:
        raise PermissionDenied(f"{actor_name} ({role}) may not {action} a reply")
    before = DraftState(draft.state)
    if before not in rule.sources:
        raise IllegalTransition(f"cannot {action} a reply that is {before.value}")
    if action == "edit" and (not text or not text.strip()):
        raise IllegalTransition("a reply cannot be empty")
    if action in ("approve", "retry") and not draft.text.strip():
        raise IllegalTransition("cannot approve an empty reply")
    if action == "start_posting" and draft.approved_version != draft.version:
        raise IllegalTransition("the approved version is not the current text: approve it again")
    _claim(session, draft, before)
    if action == "edit":
        if text != draft.text:
            draft.text = text
            draft.version += 1
            draft.approved_by = draft.approved_version = None
    if action in ("approve", "retry"):
        draft.approved_by, draft.approved_version = actor_name, draft.version
    if action == "start_posting":
        draft.attempts += 1
    if action == "mark_failed":
        draft.error = note
    draft.state = rule.target or before
    draft.updated_at = utcnow()
    session.add(draft)
    session.add(
        ReviewEvent(
            draft_id=draft.id,  # type: ignore[arg-type]
            actor=actor_name,
            action=action,
            from_state=before.value,
            to_state=DraftState(draft.state).value,
            version=draft.version,
            note=note,
        )
    )
    session.flush()
    return draft


def _claim(session: Session, draft: ReplyDraft, before: DraftState) -> None:
    """Lock the draft's row only if it is still in the state and version we read.

    Two workers (or two people) acting on the same draft at once: the second finds nothing to claim and is
    refused, so an approved reply cannot be taken into `posting` — and posted — twice.
    """
    claimed = session.execute(
        update(ReplyDraft)
        .where(col(ReplyDraft.id) == draft.id, col(ReplyDraft.state) == before.value)
        .where(col(ReplyDraft.version) == draft.version)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ConcurrentChange("someone else changed this reply meanwhile: reload it and try again")
