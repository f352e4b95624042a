"""The reply state machine: only legal moves, only by allowed roles, every move audited."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from kikimimi.errors import ConcurrentChange, IllegalTransition, PermissionDenied
from kikimimi.models import DraftState, Post, ReplyDraft, ReviewEvent, Role, User
from listener.store import upsert_posts
from responder.workflow import RULES, SYSTEM, LeaseLost, allowed_actions, transition
from tests.conftest import make_post

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
W = "worker-1"


@pytest.fixture
def draft(session):
    upsert_posts(session, [make_post("1")])
    post = session.exec(select(Post)).one()
    d = ReplyDraft(post_id=post.id, text="Hi Mika, sorry!")
    session.add(d)
    session.commit()
    return d


def events(session, draft):
    return session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft.id).order_by(ReviewEvent.id)).all()


def test_happy_path_is_audited(session, draft, users):
    transition(session, draft, "edit", users["responder"], text="Hi Mika, so sorry!")
    transition(session, draft, "approve", users["approver"])
    transition(session, draft, "start_posting", SYSTEM, worker=W)
    transition(session, draft, "send", SYSTEM, worker=W)
    transition(session, draft, "mark_posted", SYSTEM, worker=W, external_id="r1")
    assert draft.state == DraftState.posted and draft.version == 2 and draft.approved_by == "aki"
    assert draft.posted_external_id == "r1" and draft.lease_owner is None
    log = [(e.actor, e.action, e.from_state, e.to_state) for e in events(session, draft)]
    assert log == [
        ("rin", "edit", "drafted", "drafted"),
        ("aki", "approve", "drafted", "approved"),
        ("system", "start_posting", "approved", "posting"),
        ("system", "send", "posting", "posting"),
        ("system", "mark_posted", "posting", "posted"),
    ]
    assert events(session, draft)[2].note == "worker worker-1"
    assert all(e.at.tzinfo is not None for e in events(session, draft))


def test_responders_cannot_approve_and_viewers_cannot_edit(session, draft, users):
    with pytest.raises(PermissionDenied, match="rin .*responder.* may not approve"):
        transition(session, draft, "approve", users["responder"])
    with pytest.raises(PermissionDenied):
        transition(session, draft, "edit", users["viewer"], text="x")
    assert draft.state == DraftState.drafted and events(session, draft) == []


def test_people_cannot_post_and_the_system_cannot_approve(session, draft, users):
    with pytest.raises(PermissionDenied):
        transition(session, draft, "start_posting", users["approver"])
    with pytest.raises(PermissionDenied):
        transition(session, draft, "approve", SYSTEM)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (DraftState.drafted, "start_posting"),  # never post without approval
        (DraftState.posted, "approve"),
        (DraftState.posted, "edit"),
        (DraftState.rejected, "approve"),
        (DraftState.posting, "reject"),
        (DraftState.approved, "mark_posted"),
    ],
)
def test_illegal_transitions_are_refused(session, draft, users, state, action):
    draft.state = state
    actor = SYSTEM if action in ("start_posting", "mark_posted") else users["approver"]
    with pytest.raises(IllegalTransition, match=f"cannot {action} a reply that is {state.value}"):
        transition(session, draft, action, actor, text="new text", worker=W, external_id="r1")
    assert draft.state == state and events(session, draft) == []


def test_editing_an_approved_reply_withdraws_the_approval(session, draft, users):
    transition(session, draft, "approve", users["approver"])
    transition(session, draft, "edit", users["responder"], text="changed after approval")
    assert draft.state == DraftState.drafted and draft.approved_by is None
    with pytest.raises(IllegalTransition):
        transition(session, draft, "start_posting", SYSTEM, worker=W)


def test_the_approved_version_must_be_the_posted_text(session, draft, users):
    transition(session, draft, "approve", users["approver"])
    draft.text, draft.version = "sneaky change", draft.version + 1  # bypassing the workflow
    with pytest.raises(IllegalTransition, match="approve it again"):
        transition(session, draft, "start_posting", SYSTEM, worker=W)


def test_empty_text_cannot_be_saved(session, draft, users):
    with pytest.raises(IllegalTransition, match="empty"):
        transition(session, draft, "edit", users["responder"], text="   ")


def leased(session, draft, users, now=T0, lease_seconds=60):
    transition(session, draft, "approve", users["approver"], now=now)
    transition(session, draft, "start_posting", SYSTEM, worker=W, now=now, lease_seconds=lease_seconds)
    session.commit()
    return draft


def test_the_lease_belongs_to_one_worker_until_it_runs_out(session, draft, users):
    leased(session, draft, users)
    assert (draft.lease_owner, draft.lease_expires_at) == (W, T0 + timedelta(seconds=60))
    with pytest.raises(LeaseLost):  # another worker may not call the platform for it
        transition(session, draft, "send", SYSTEM, worker="worker-2", now=T0)
    with pytest.raises(IllegalTransition, match="lease is alive"):  # nor may reconciliation touch it
        transition(session, draft, "lease_expired", SYSTEM, now=T0 + timedelta(seconds=59))
    with pytest.raises(LeaseLost, match="run out"):  # and its own worker may not call once it ran out
        transition(session, draft, "send", SYSTEM, worker=W, now=T0 + timedelta(seconds=61))
    transition(session, draft, "send", SYSTEM, worker=W, now=T0 + timedelta(seconds=30), lease_seconds=60)  # renews
    assert draft.lease_expires_at == T0 + timedelta(seconds=90) and draft.send_started_at == T0 + timedelta(seconds=30)
    with pytest.raises(IllegalTransition, match="platform may have been called"):
        transition(session, draft, "lease_expired_unsent", SYSTEM, now=T0 + timedelta(seconds=91))
    transition(session, draft, "lease_expired", SYSTEM, now=T0 + timedelta(seconds=91), note="crashed?")
    assert draft.state == DraftState.unknown and draft.unknown_since == T0 + timedelta(seconds=91)
    with pytest.raises(IllegalTransition):  # the worker that lost its lease cannot record a guess over it
        transition(session, draft, "mark_failed", SYSTEM, worker=W, note="timeout")


def test_a_reconciler_and_a_renewing_worker_cannot_both_win(session, settings, draft, users):
    from sqlmodel import Session

    from kikimimi.db import get_engine

    leased(session, draft, users)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as other:
        stale = other.get(ReplyDraft, draft.id)  # the reconciler read the lease before it was renewed
        transition(session, draft, "send", SYSTEM, worker=W, now=T0 + timedelta(seconds=50))
        session.commit()
        with pytest.raises(ConcurrentChange):
            transition(other, stale, "lease_expired", SYSTEM, now=T0 + timedelta(seconds=61))
        other.rollback()
    session.refresh(draft)
    assert draft.state == DraftState.posting and draft.lease_owner == W


def test_retry_only_after_the_lookup_showed_nothing_was_posted(session, draft, users):
    leased(session, draft, users)
    transition(session, draft, "send", SYSTEM, worker=W, now=T0)
    transition(session, draft, "mark_unknown", SYSTEM, worker=W, now=T0, note="504")
    for action in ("retry", "approve", "edit", "mark_replied_by_hand"):
        with pytest.raises(IllegalTransition, match="that is unknown"):
            transition(session, draft, action, users["approver"], text="again")
    assert allowed_actions(draft, users["approver"]) == []
    transition(session, draft, "confirm_not_posted", SYSTEM, note="nothing after 60s")
    assert allowed_actions(draft, users["approver"]) == ["edit", "reject", "retry", "mark_replied_by_hand"]
    assert allowed_actions(draft, users["responder"]) == ["edit", "mark_replied_by_hand"]
    with pytest.raises(PermissionDenied):
        transition(session, draft, "retry", users["responder"])
    transition(session, draft, "retry", users["approver"])
    assert draft.state == DraftState.approved and draft.approved_version == draft.version
    assert [e.action for e in events(session, draft)][-3:] == ["mark_unknown", "confirm_not_posted", "retry"]


def test_a_reply_sent_by_hand_records_who_when_and_where(session, draft, users):
    with pytest.raises(PermissionDenied):
        transition(session, draft, "mark_replied_by_hand", users["viewer"])
    when = T0 + timedelta(minutes=5)
    transition(
        session, draft, "mark_replied_by_hand", users["responder"], link="https://x.com/k/status/9", replied_at=when
    )
    assert draft.state == DraftState.replied_by_hand
    assert (draft.hand_replied_by, draft.hand_replied_at, draft.hand_reply_url) == (
        "rin",
        when,
        "https://x.com/k/status/9",
    )
    for action in ("approve", "retry", "edit"):
        with pytest.raises(IllegalTransition):
            transition(session, draft, action, users["approver"], text="x")
    with pytest.raises(IllegalTransition, match="start_posting"):
        transition(session, draft, "start_posting", SYSTEM, worker=W)


def test_viewers_can_do_nothing_and_only_the_system_posts(session, draft, users):
    admin = User(name="ada", role=Role.admin)
    for action, rule in RULES.items():
        if SYSTEM in rule.roles:
            assert rule.roles == {SYSTEM}, action
            with pytest.raises(PermissionDenied):
                transition(session, draft, action, admin)
        assert Role.viewer not in rule.roles
    assert allowed_actions(draft, users["viewer"]) == []
