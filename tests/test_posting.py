"""Posting: never without approval, never twice, dry run by default, crashes reconciled."""

import pytest
from sqlmodel import Session, select

from kikimimi.db import get_engine
from kikimimi.errors import ConcurrentChange, PlatformError
from kikimimi.models import DraftState, Post, ReplyDraft, ReviewEvent
from listener.store import upsert_posts
from responder.posting import post_approved
from responder.workflow import transition
from tests.conftest import make_post


class FakePoster:
    platform = "x"

    def __init__(self, fail: Exception | None = None, die_after_post: bool = False):
        self.sent: list[tuple[str, str, str]] = []
        self.fail, self.die_after_post = fail, die_after_post

    def reply(self, post, text, *, idempotency_key):
        if self.fail:
            raise self.fail
        self.sent.append((post.external_id, text, idempotency_key))
        if self.die_after_post:
            raise SystemExit("killed right after the platform accepted the reply")
        return f"r{len(self.sent)}"

    def find_reply(self, post, *, idempotency_key):
        return next((f"r{i + 1}" for i, s in enumerate(self.sent) if s[2] == idempotency_key), None)


@pytest.fixture
def drafts(session, users):
    upsert_posts(
        session, [make_post("1"), make_post("2"), make_post("3", replyable=False, replyable_reason="no mention")]
    )
    posts = session.exec(select(Post).order_by(Post.external_id)).all()
    ds = [ReplyDraft(post_id=p.id, text=f"reply {p.external_id}") for p in posts]
    session.add_all(ds)
    session.commit()
    for d in ds[1:]:  # the first stays unapproved
        transition(session, d, "approve", users["approver"])
    session.commit()
    return ds


def test_dry_run_posts_nothing_and_keeps_drafts_approved(session, drafts):
    poster = FakePoster()
    report = post_approved(session, {"x": poster}, live=False)
    assert poster.sent == [] and report.would_post == [drafts[1].id]
    assert [d.state for d in drafts] == [DraftState.drafted, DraftState.approved, DraftState.approved]


def test_live_posts_only_approved_replyable_drafts_once(session, drafts):
    poster = FakePoster()
    report = post_approved(session, {"x": poster}, live=True)
    again = post_approved(session, {"x": poster}, live=True)
    assert poster.sent == [("2", "reply 2", f"kikimimi-draft-{drafts[1].id}")]
    assert report.posted == [drafts[1].id] and again.posted == []
    assert drafts[1].state == DraftState.posted and drafts[1].posted_external_id == "r1"
    assert drafts[0].state == DraftState.drafted  # never posted without approval
    assert report.skipped == [(drafts[2].id, "not replyable via API: no mention")]


def test_platform_error_marks_the_draft_failed_with_the_reason(session, drafts):
    report = post_approved(session, {"x": FakePoster(fail=PlatformError("x", "403 forbidden"))}, live=True)
    assert report.failed == [drafts[1].id]
    assert drafts[1].state == DraftState.failed and "403 forbidden" in drafts[1].error


def test_crash_mid_post_is_reconciled_not_reposted(session, settings, drafts):
    poster = FakePoster(die_after_post=True)
    with pytest.raises(SystemExit):
        post_approved(session, {"x": poster}, live=True)
    session.close()
    poster.die_after_post = False
    with Session(get_engine(settings.database_url), expire_on_commit=False) as fresh:  # restarted process
        stuck = fresh.get(ReplyDraft, drafts[1].id)
        assert stuck.state == DraftState.posting
        report = post_approved(fresh, {"x": poster}, live=True)
        assert report.reconciled == [stuck.id] and report.posted == []
        assert fresh.get(ReplyDraft, stuck.id).state == DraftState.posted
        notes = fresh.exec(select(ReviewEvent.note).where(ReviewEvent.draft_id == stuck.id)).all()
        assert "reconciled: the reply was already posted" in notes
    assert len(poster.sent) == 1  # the platform saw exactly one reply


def test_crash_before_the_platform_call_is_retried_once(session, settings, drafts):
    draft = drafts[1]
    transition(session, draft, "start_posting", "system")
    session.commit()  # the process died right here
    poster = FakePoster()
    report = post_approved(session, {"x": poster}, live=True)
    assert report.reconciled == [draft.id] and report.posted == [draft.id]
    assert len(poster.sent) == 1 and draft.state == DraftState.posted


def test_two_workers_never_post_the_same_reply(session, settings, drafts):
    """Both workers read the draft as approved; only the first may take it into posting."""
    engine = get_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        mine = first.get(ReplyDraft, drafts[1].id)
        theirs = second.get(ReplyDraft, drafts[1].id)
        second.commit()  # end its read transaction, as a worker between two steps would
        transition(first, mine, "start_posting", "system")
        first.commit()
        with pytest.raises(ConcurrentChange, match="someone else changed this reply"):
            transition(second, theirs, "start_posting", "system")
        second.rollback()
    poster = FakePoster()
    session.expire_all()
    report = post_approved(session, {"x": poster}, live=True)  # the first worker's draft is reconciled, once
    assert len(poster.sent) == 1 and report.posted == [drafts[1].id]


def test_a_draft_claimed_between_queue_and_post_is_skipped(session, settings, drafts, monkeypatch):
    import responder.posting as posting

    engine, real_transition = get_engine(settings.database_url), posting.transition

    def another_worker_gets_there_first(sess, draft, action, actor, **kwargs):
        if action == "start_posting":
            with Session(engine) as other:
                real_transition(other, other.get(ReplyDraft, draft.id), "start_posting", "system")
                other.commit()
        return real_transition(sess, draft, action, actor, **kwargs)

    monkeypatch.setattr(posting, "transition", another_worker_gets_there_first)
    poster = FakePoster()
    report = post_approved(session, {"x": poster}, live=True)
    assert poster.sent == [] and report.posted == []
    assert (drafts[1].id, "taken by another worker") in report.skipped
