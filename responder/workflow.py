"""The reply state machine, enforced here and nowhere else.

`RULES` is the one table of moves: for each action, the states it starts from, the state it ends in, who may
take it, and the guard on the row that makes it atomic. `transition()` applies one move with a conditional
UPDATE (compare-and-set on the state and version we read, plus the lease where the rule says so) and writes a
`ReviewEvent`; a refused move raises and changes nothing.

The posting half keeps "one reply per approval" under crashes, lag and concurrency:

- `start_posting` leases the draft to one worker (`lease_owner`, `lease_expires_at`). Two workers cannot both
  claim it: the second's UPDATE finds the state already changed.
- `send` is committed by the lease holder right before each platform call; it renews the lease and records
  `send_started_at`. A lease that expired without a `send` proves the platform was never called
  (`lease_expired_unsent`, back to approved); one that expired after a `send` means nobody knows
  (`lease_expired`, to unknown). Nobody else touches a draft whose lease is alive.
- An ambiguous platform answer (timeout, 5xx, reset) is `mark_unknown`; a clear refusal is `mark_failed`.
- `unknown` is settled only by a lookup: `confirm_posted` if the reply is there, `confirm_not_posted` once a
  lookup made after the platform's lag window still shows nothing. Only then may a person `retry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from kikimimi import audit
from kikimimi.errors import ConcurrentChange, IllegalTransition, KikimimiError, PermissionDenied
from kikimimi.models import DraftState, Post, ReplyDraft, ReviewEvent, Role, User
from kikimimi.timeutil import utcnow
from responder.limits import reply_length
from responder.teamwork import check_not_locked

SYSTEM = "system"  # the actor for posting transitions, which only the poster makes
S = DraftState
LEASE_SECONDS = 300.0  # must outlast one platform call (client timeouts, a short rate-limit wait) with room to spare

Guard = Literal["holder", "expired"]


class LeaseLost(ConcurrentChange):
    """This worker no longer holds the posting lease (it expired, or another worker settled the draft)."""


@dataclass(frozen=True)
class Rule:
    sources: frozenset[DraftState]
    target: DraftState | None  # None: stays in the same state (an edit of a drafted reply, a send)
    roles: frozenset[Role | str]
    guard: Guard | None = None  # holder: only the lease owner; expired: only once the lease has run out
    why: str = ""


_RESPONDERS = frozenset({Role.responder, Role.approver, Role.admin})
_APPROVERS = frozenset({Role.approver, Role.admin})
_SYS = frozenset({SYSTEM})
RULES: dict[str, Rule] = {
    # people
    "edit": Rule(frozenset({S.drafted, S.approved, S.failed, S.not_posted}), S.drafted, _RESPONDERS),
    "approve": Rule(frozenset({S.drafted}), S.approved, _APPROVERS),
    "reject": Rule(frozenset({S.drafted, S.approved, S.failed, S.not_posted}), S.rejected, _APPROVERS),
    "retry": Rule(
        frozenset({S.failed, S.not_posted}), S.approved, _APPROVERS, why="only once nothing was posted, for sure"
    ),
    "mark_replied_by_hand": Rule(
        frozenset({S.drafted, S.approved, S.failed, S.not_posted}), S.replied_by_hand, _RESPONDERS
    ),
    # the poster, holding the lease
    "start_posting": Rule(frozenset({S.approved}), S.posting, _SYS),
    "send": Rule(frozenset({S.posting}), None, _SYS, guard="holder"),
    "release": Rule(frozenset({S.posting}), S.approved, _SYS, guard="holder", why="the platform was not called"),
    "mark_posted": Rule(frozenset({S.posting}), S.posted, _SYS, guard="holder"),
    "mark_failed": Rule(frozenset({S.posting}), S.failed, _SYS, guard="holder", why="the platform refused"),
    "mark_unknown": Rule(frozenset({S.posting}), S.unknown, _SYS, guard="holder", why="an ambiguous answer"),
    # reconciliation: leases that ran out, lookups that settled an unknown outcome
    "lease_expired_unsent": Rule(frozenset({S.posting}), S.approved, _SYS, guard="expired"),
    "lease_expired": Rule(frozenset({S.posting}), S.unknown, _SYS, guard="expired"),
    "confirm_posted": Rule(frozenset({S.unknown, S.not_posted}), S.posted, _SYS),
    "confirm_not_posted": Rule(frozenset({S.unknown}), S.not_posted, _SYS),
    # an accepted FAQ answer rewrites a drafted reply that nobody has edited (responder.faq decides which)
    "faq_redraft": Rule(frozenset({S.drafted}), S.drafted, _SYS, why="only a draft nobody has touched"),
}
HUMAN_ACTIONS = tuple(a for a, r in RULES.items() if SYSTEM not in r.roles)
# the states in which nobody may post the draft, because its outcome is not known yet
OUTCOME_PENDING = frozenset({S.posting, S.unknown})


def get_user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise KikimimiError(f"unknown user {name!r}: add one with `kikimimi users add NAME --role ROLE`")
    return user


def allowed_actions(draft: ReplyDraft, actor: User) -> list[str]:
    """The actions `actor` may take on `draft` now (what a page should offer: Retry only after reconciliation)."""
    state = DraftState(draft.state)
    return [a for a in HUMAN_ACTIONS if actor.role in RULES[a].roles and state in RULES[a].sources]


def transition(
    session: Session,
    draft: ReplyDraft,
    action: str,
    actor: User | str,
    *,
    text: str | None = None,
    note: str | None = None,
    worker: str | None = None,
    now: datetime | None = None,
    lease_seconds: float = LEASE_SECONDS,
    external_id: str | None = None,
    link: str | None = None,
    replied_at: datetime | None = None,
) -> ReplyDraft:
    """Apply `action` to `draft` as `actor` (a User, or SYSTEM for the poster), or raise without changing it.

    `worker` names the posting worker for lease actions; `now` is the clock (tests pass one in).
    `external_id` is the platform's id for `mark_posted`/`confirm_posted`; `link` and `replied_at` describe
    a reply a person sent by hand. A person's move, allowed or refused, is also in the audit table
    (`kikimimi.audit`); the poster's moves are in `ReviewEvent` only.
    """

    def move() -> ReplyDraft:
        return _transition(
            session,
            draft,
            action,
            actor,
            text=text,
            note=note,
            worker=worker,
            now=now,
            lease_seconds=lease_seconds,
            external_id=external_id,
            link=link,
            replied_at=replied_at,
        )

    if actor == SYSTEM:
        return move()
    try:
        moved = move()
    except (PermissionDenied, IllegalTransition) as exc:
        raise audit.refused(session, actor, action, "draft", draft.id, exc, now=now) from None
    audit.record(session, actor, action, "draft", draft.id, reason=note, now=now)
    return moved


def _transition(
    session: Session,
    draft: ReplyDraft,
    action: str,
    actor: User | str,
    *,
    text: str | None,
    note: str | None,
    worker: str | None,
    now: datetime | None,
    lease_seconds: float,
    external_id: str | None,
    link: str | None,
    replied_at: datetime | None,
) -> ReplyDraft:
    rule = RULES.get(action)
    if rule is None:
        raise IllegalTransition(f"unknown action {action!r}")
    now = now or utcnow()
    actor_name, role = (SYSTEM, SYSTEM) if actor == SYSTEM else (actor.name, actor.role)  # type: ignore[union-attr]
    if role not in rule.roles or (isinstance(actor, User) and not actor.active):
        raise PermissionDenied(f"{actor_name} ({role}) may not {action} a reply")
    before = DraftState(draft.state)
    if before not in rule.sources:
        reason = f" ({rule.why})" if rule.why else ""
        raise IllegalTransition(f"cannot {action} a reply that is {before.value}{reason}")
    _check_preconditions(draft, action, rule, text=text, note=note, worker=worker, external_id=external_id, now=now)
    if action in ("approve", "retry"):
        _check_length(session, draft)
        check_not_locked(session, draft, actor_name, now=now)  # someone else may be changing what is approved
    if action == "mark_replied_by_hand":
        replied_at = replied_at or now
        if replied_at.tzinfo is None or replied_at > now + timedelta(minutes=5):
            raise IllegalTransition("when it was replied by hand must be a timezone-aware time, not in the future")
    _claim(session, draft, before, action, rule, worker=worker, now=now)
    _apply(draft, action, actor_name, text=text, note=note, worker=worker, now=now, lease_seconds=lease_seconds)
    if external_id is not None:
        draft.posted_external_id, draft.posted_at, draft.error = external_id, now, None
    if action == "mark_replied_by_hand":
        draft.hand_replied_by, draft.hand_replied_at, draft.hand_reply_url = actor_name, replied_at, link
    draft.state = rule.target or before
    draft.updated_at = now
    session.add(draft)
    session.add(
        ReviewEvent(
            draft_id=draft.id,  # type: ignore[arg-type]
            actor=actor_name,
            action=action,
            from_state=before.value,
            to_state=DraftState(draft.state).value,
            version=draft.version,
            note=note if worker is None else f"worker {worker}" + (f": {note}" if note else ""),
            at=now,
        )
    )
    session.flush()
    return draft


def _check_length(session: Session, draft: ReplyDraft) -> None:
    """A reply the platform would refuse or cut is never approved: the person shortens it first."""
    post = session.get(Post, draft.post_id)
    if post is None:
        return
    length = reply_length(post.platform, draft.text)
    if length.over:
        raise IllegalTransition(f"too long for {post.platform}: {length.describe()}; shorten it before approving")


def _check_preconditions(
    draft: ReplyDraft,
    action: str,
    rule: Rule,
    *,
    text: str | None,
    note: str | None,
    worker: str | None,
    external_id: str | None,
    now: datetime,
) -> None:
    if action in ("edit", "faq_redraft") and (not text or not text.strip()):
        raise IllegalTransition("a reply cannot be empty")
    if action == "reject" and not (note and note.strip()):
        raise IllegalTransition("say why the reply is rejected")
    if action in ("approve", "retry") and not draft.text.strip():
        raise IllegalTransition("cannot approve an empty reply")
    if action == "start_posting" and draft.approved_version != draft.version:
        raise IllegalTransition("the approved version is not the current text: approve it again")
    if (action == "start_posting" or rule.guard == "holder") and not worker:
        raise IllegalTransition(f"{action} needs the posting worker's id")
    if rule.guard == "holder" and draft.lease_owner != worker:
        raise LeaseLost(f"worker {worker} does not hold the posting lease of reply {draft.id}")
    if action == "send" and not _alive(draft.lease_expires_at, now):
        raise LeaseLost(f"the posting lease of reply {draft.id} has run out: the platform must not be called")
    if rule.guard == "expired" and _alive(draft.lease_expires_at, now):
        raise IllegalTransition(f"reply {draft.id} is being posted by {draft.lease_owner}: its lease is alive")
    if action == "lease_expired_unsent" and (draft.lease_owner is None or draft.send_started_at is not None):
        raise IllegalTransition("the platform may have been called: its outcome is unknown")
    if action in ("mark_posted", "confirm_posted") and not external_id:
        raise IllegalTransition(f"{action} needs the platform's id of the reply")


def _alive(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at > now


def _claim(
    session: Session,
    draft: ReplyDraft,
    before: DraftState,
    action: str,
    rule: Rule,
    *,
    worker: str | None,
    now: datetime,
) -> None:
    """Lock the draft's row only if it is still as we read it: same state and version, and the rule's lease guard.

    Two workers (or two people) acting on the same draft at once: the second finds nothing to claim and is
    refused, so an approved reply cannot be taken into `posting` — and posted — twice, a live lease cannot be
    taken over, and a worker whose lease was taken over cannot call the platform.
    """
    stmt = (
        update(ReplyDraft)
        .where(col(ReplyDraft.id) == draft.id, col(ReplyDraft.state) == before.value)
        .where(col(ReplyDraft.version) == draft.version)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if rule.guard == "holder":
        stmt = stmt.where(col(ReplyDraft.lease_owner) == worker)
        if action == "send":
            stmt = stmt.where(col(ReplyDraft.lease_expires_at) > now)
    if rule.guard == "expired":
        stmt = stmt.where(or_(col(ReplyDraft.lease_expires_at).is_(None), col(ReplyDraft.lease_expires_at) <= now))
        owner = col(ReplyDraft.lease_owner)  # the lease we saw run out, not one taken since
        stmt = stmt.where(owner.is_(None) if draft.lease_owner is None else owner == draft.lease_owner)
        if action == "lease_expired_unsent":
            stmt = stmt.where(col(ReplyDraft.send_started_at).is_(None))
    if session.execute(stmt).rowcount != 1:
        if rule.guard == "holder":
            raise LeaseLost(f"worker {worker} lost the posting lease of reply {draft.id}: another worker settled it")
        raise ConcurrentChange("someone else changed this reply meanwhile: reload it and try again")


def _apply(
    draft: ReplyDraft,
    action: str,
    actor_name: str,
    *,
    text: str | None,
    note: str | None,
    worker: str | None,
    now: datetime,
    lease_seconds: float,
) -> None:
    """The fields each action changes besides the state."""
    if action in ("edit", "faq_redraft") and text != draft.text:
        draft.text = text  # type: ignore[assignment]
        draft.version += 1
        draft.approved_by = draft.approved_version = None
    if action in ("approve", "retry"):
        draft.approved_by, draft.approved_version = actor_name, draft.version
    if action == "start_posting":
        draft.attempts += 1
        draft.lease_owner, draft.send_started_at, draft.unknown_since = worker, None, None
    if action in ("start_posting", "send"):
        draft.lease_expires_at, draft.heartbeat_at = now + timedelta(seconds=lease_seconds), now
    if action == "send":
        draft.send_started_at = now
    if action in ("mark_unknown", "lease_expired"):
        draft.unknown_since = now  # the platform's lag is waited out from here
    if action in ("mark_failed", "mark_unknown", "lease_expired"):
        draft.error = note
    if action in ("release", "mark_posted", "mark_failed", "mark_unknown", "lease_expired", "lease_expired_unsent"):
        draft.lease_owner = draft.lease_expires_at = None
    if action == "confirm_posted":
        draft.unknown_since = None
    if action == "confirm_not_posted":
        draft.error = note


def create_draft(
    session: Session,
    post: Post,
    text: str,
    *,
    template: str | None,
    created_by: str = SYSTEM,
    now: datetime | None = None,
) -> ReplyDraft:
    """A new draft for `post`, in `drafted` and nothing else: written by a template or a generator, it waits for a
    person to approve it like any draft. Its first `ReviewEvent` says who wrote it."""
    now = now or utcnow()
    draft = ReplyDraft(post_id=post.id, text=text, template=template, created_by=created_by, state=S.drafted)  # type: ignore[arg-type]
    draft.created_at = draft.updated_at = now
    session.add(draft)
    session.flush()
    session.add(
        ReviewEvent(
            draft_id=draft.id,  # type: ignore[arg-type]
            actor=created_by,
            action="draft",
            from_state=None,
            to_state=S.drafted.value,
            version=draft.version,
            note=template,
            at=now,
        )
    )
    return draft
