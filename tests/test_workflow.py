"""The reply state machine: only legal moves, only by allowed roles, every move audited."""

import pytest
from sqlmodel import select

from kikimimi.errors import IllegalTransition, PermissionDenied
from kikimimi.models import DraftState, Post, ReplyDraft, ReviewEvent
from listener.store import upsert_posts
from responder.workflow import SYSTEM, transition
from tests.conftest import make_post


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
    transition(session, draft, "start_posting", SYSTEM)
    transition(session, draft, "mark_posted", SYSTEM)
    assert draft.state == DraftState.posted and draft.version == 2 and draft.approved_by == "aki"
    log = [(e.actor, e.action, e.from_state, e.to_state) for e in events(session, draft)]
    assert log == [
        ("rin", "edit", "drafted", "drafted"),
        ("aki", "approve", "drafted", "approved"),
        ("system", "start_posting", "approved", "posting"),
        ("system", "mark_posted", "posting", "posted"),
    ]
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
        transition(session, draft, action, actor, text="new text")
    assert draft.state == state and events(session, draft) == []


def test_editing_an_approved_reply_withdraws_the_approval(session, draft, users):
    transition(session, draft, "approve", users["approver"])
    transition(session, draft, "edit", users["responder"], text="changed after approval")
    assert draft.state == DraftState.drafted and draft.approved_by is None
    with pytest.raises(IllegalTransition):
        transition(session, draft, "start_posting", SYSTEM)


def test_the_approved_version_must_be_the_posted_text(session, draft, users):
    transition(session, draft, "approve", users["approver"])
    draft.text, draft.version = "sneaky change", draft.version + 1  # bypassing the workflow
    with pytest.raises(IllegalTransition, match="approve it again"):
        transition(session, draft, "start_posting", SYSTEM)


def test_empty_text_cannot_be_saved(session, draft, users):
    with pytest.raises(IllegalTransition, match="empty"):
        transition(session, draft, "edit", users["responder"], text="   ")
