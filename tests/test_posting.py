"""Posting: never without approval, never twice, dry run by default; ambiguous answers are looked up, not re-posted."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from kikimimi.db import get_engine
from kikimimi.errors import PermissionDenied, PlatformError, RateLimited, TransientPlatformError
from kikimimi.models import DraftState, FlagEvent, Post, ReplyDraft, ReviewEvent, Role, User
from listener.store import upsert_posts
from responder.pause import is_posting_paused, pause_posting, resume_posting
from responder.posting import LookupPolicy, classify_failure, post_approved
from responder.workflow import SYSTEM, transition
from tests.conftest import make_post

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
LAG = 30.0  # the fake platform's lookup lag, in its own (fake) seconds


class Clock:
    """The time as posting sees it; `sleep` moves it on, so waiting out a lag costs no real time."""

    def __init__(self, now=T0):
        self.now, self.slept = now, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


class FakePoster:
    """A platform with a lagging lookup: a reply is found only `lag` seconds after it was created."""

    platform = "x"

    def __init__(self, clock, *, fail=None, lose_answer=False, die_after_post=False, lag=LAG):
        self.clock, self.lag = clock, lag
        self.sent: list[tuple[str, str, str, datetime]] = []
        self.fail, self.lose_answer, self.die_after_post = fail, lose_answer, die_after_post
        self.lookups = 0
        self.lookup_lag_seconds = lag

    def reply(self, post, text, *, idempotency_key):
        if self.fail:
            raise self.fail
        self.sent.append((post.external_id, text, idempotency_key, self.clock()))
        if self.die_after_post:
            raise SystemExit("killed right after the platform accepted the reply")
        if self.lose_answer:
            raise TransientPlatformError("x", "connection reset by peer")
        return f"r{len(self.sent)}"

    def find_reply(self, post, *, idempotency_key):
        self.lookups += 1
        visible_before = self.clock() - timedelta(seconds=self.lag)
        return next(
            (f"r{i + 1}" for i, s in enumerate(self.sent) if s[2] == idempotency_key and s[3] <= visible_before), None
        )


@pytest.fixture
def clock():
    return Clock()


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


def post(session, poster, clock, **kwargs):
    return post_approved(session, {"x": poster}, live=True, clock=clock, sleep=clock.sleep, **kwargs)


def notes(session, draft):
    return [e.note or "" for e in session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft.id))]


def actions(session, draft):
    return [e.action for e in session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft.id))]


def test_dry_run_posts_nothing_and_keeps_drafts_approved(session, drafts, clock):
    poster = FakePoster(clock)
    report = post_approved(session, {"x": poster}, live=False)
    assert poster.sent == [] and report.would_post == [drafts[1].id] and report.would_post_total == 1
    assert [d.state for d in drafts] == [DraftState.drafted, DraftState.approved, DraftState.approved]


def test_live_posts_only_approved_replyable_drafts_once(session, drafts, clock):
    poster = FakePoster(clock)
    report = post(session, poster, clock)
    again = post(session, poster, clock)
    assert [s[:3] for s in poster.sent] == [("2", "reply 2", f"kikimimi-draft-{drafts[1].id}")]
    assert report.posted == [drafts[1].id] and again.posted == []
    assert drafts[1].state == DraftState.posted and drafts[1].posted_external_id == "r1"
    assert drafts[0].state == DraftState.drafted  # never posted without approval
    assert report.skipped == [(drafts[2].id, "not replyable via API: no mention")]
    assert poster.lookups == 0  # a clean answer needs no lookup


def test_a_clear_refusal_is_failed_with_the_reason_and_may_be_retried(session, drafts, clock, users):
    poster = FakePoster(clock, fail=PlatformError("x", "403 the post was deleted"))
    report = post(session, poster, clock)
    assert report.failed == [drafts[1].id] and report.unknown == []
    assert drafts[1].state == DraftState.failed and "the post was deleted" in drafts[1].error
    transition(session, drafts[1], "retry", users["approver"])
    poster.fail = None
    assert post(session, poster, clock).posted == [drafts[1].id] and len(poster.sent) == 1


def test_a_rate_limit_sends_nothing_and_keeps_the_approval(session, drafts, clock):
    poster = FakePoster(clock, fail=RateLimited("x"))
    report = post(session, poster, clock)
    assert report.released == [drafts[1].id] and drafts[1].state == DraftState.approved
    poster.fail = None
    assert post(session, poster, clock).posted == [drafts[1].id]


@pytest.mark.parametrize(
    "error",
    [TransientPlatformError("x", "502 bad gateway"), ConnectionResetError("reset"), KeyError("data")],
    ids=["5xx", "reset", "unreadable answer"],
)
def test_an_ambiguous_answer_is_unknown_then_found_by_a_lookup_that_waits_out_the_lag(session, drafts, clock, error):
    poster = FakePoster(clock)
    poster.reply = lambda post, text, *, idempotency_key: (  # the platform created it, then the answer broke
        poster.sent.append((post.external_id, text, idempotency_key, clock())),
        (_ for _ in ()).throw(error),
    )
    report = post(session, poster, clock)
    draft = drafts[1]
    assert report.unknown == [draft.id] and report.failed == []
    assert report.reconciled_posted == [draft.id] and draft.state == DraftState.posted
    assert draft.posted_external_id == "r1" and len(poster.sent) == 1
    assert poster.lookups > 1 and sum(clock.slept) >= LAG  # the first lookups missed it: the platform lags
    assert actions(session, draft)[-3:] == ["send", "mark_unknown", "confirm_posted"]


def test_nothing_found_after_the_whole_lag_window_is_not_posted_and_only_a_person_retries(
    session, drafts, clock, users
):
    poster = FakePoster(clock, fail=TransientPlatformError("x", "504 gateway timeout"))
    report = post(session, poster, clock)
    draft = drafts[1]
    assert report.reconciled_not_posted == [draft.id] and report.awaiting_retry == [draft.id]
    assert draft.state == DraftState.not_posted and clock.now - draft.unknown_since >= timedelta(seconds=LAG)
    assert post(session, poster, clock).posted == []  # no worker posts it again by itself
    poster.fail = None
    transition(session, draft, "retry", users["approver"])
    assert post(session, poster, clock).posted == [draft.id] and len(poster.sent) == 1


def test_an_unknown_outcome_is_never_posted_while_the_lookup_cannot_settle_it(session, drafts, clock):
    poster = FakePoster(clock, lose_answer=True)
    policy = LookupPolicy(max_attempts=2)  # gives up long before the lag window: the outcome stays open
    report = post(session, poster, clock, lookup=policy)
    assert report.held_unknown == [drafts[1].id] and drafts[1].state == DraftState.unknown
    poster.lose_answer = False
    found = []
    for _ in range(4):  # later passes, 10 s apart: the reply shows up once the platform's lag has passed
        clock.now += timedelta(seconds=10)
        later = post(session, poster, clock, lookup=policy)
        assert later.posted == [] and len(poster.sent) == 1
        found += later.reconciled_posted
    assert found == [drafts[1].id] and drafts[1].state == DraftState.posted


def test_an_unknown_outcome_without_a_poster_waits_with_one_line_per_platform(session, drafts, clock, caplog):
    poster = FakePoster(clock, lose_answer=True)
    report = post(session, poster, clock, lookup=LookupPolicy(max_attempts=2))
    assert report.held_unknown == [drafts[1].id]
    poster.lose_answer = False
    clock.now += timedelta(seconds=LAG)
    with caplog.at_level("WARNING", logger="responder.posting"):
        dry = post_approved(session, {}, clock=clock, sleep=clock.sleep)  # no X credentials: nobody can look
    assert dry.reconciled_posted == [] and drafts[1].state == DraftState.unknown and poster.lookups == 2
    said = [r.getMessage() for r in caplog.records if "outcome unknown" in r.getMessage()]
    assert said == ["1 draft(s) on x: outcome unknown, and no x poster can look them up"]
    assert post(session, poster, clock).reconciled_posted == [drafts[1].id] and len(poster.sent) == 1


def test_a_lookup_that_errors_leaves_the_outcome_unknown(session, drafts, clock):
    poster = FakePoster(clock, lose_answer=True)

    def broken(post, *, idempotency_key):
        raise TransientPlatformError("x", "search is down")

    poster.find_reply = broken
    report = post(session, poster, clock)
    assert report.held_unknown == [drafts[1].id] and drafts[1].state == DraftState.unknown


def test_a_crash_after_sending_is_left_alone_while_the_lease_lives_then_looked_up(session, settings, drafts, clock):
    poster = FakePoster(clock, die_after_post=True)
    with pytest.raises(SystemExit):
        post(session, poster, clock, lease_seconds=120)
    session.close()
    poster.die_after_post = False
    with Session(get_engine(settings.database_url), expire_on_commit=False) as fresh:  # a restarted process
        early = post(fresh, poster, clock)  # the lease is still alive: its worker may be mid-call
        stuck = fresh.get(ReplyDraft, drafts[1].id)
        assert early.in_flight == [stuck.id] and stuck.state == DraftState.posting and poster.lookups == 0
        clock.now += timedelta(seconds=121)
        report = post(fresh, poster, clock)
        assert report.unknown == [stuck.id] and report.reconciled_posted == [stuck.id] and report.posted == []
        assert fresh.get(ReplyDraft, stuck.id).state == DraftState.posted
        assert any("ran out after it called the platform" in n for n in notes(fresh, stuck))
    assert len(poster.sent) == 1  # the platform saw exactly one reply


def test_a_crash_before_the_platform_call_is_posted_again_once(session, drafts, clock):
    draft = drafts[1]
    transition(session, draft, "start_posting", SYSTEM, worker="dead", now=clock(), lease_seconds=60)
    session.commit()  # the process died here, before `send`: the platform was never called
    poster = FakePoster(clock)
    clock.now += timedelta(seconds=61)
    report = post(session, poster, clock)
    assert report.released == [draft.id] and report.posted == [draft.id] and report.unknown == []
    assert len(poster.sent) == 1 and draft.state == DraftState.posted and poster.lookups == 0


def test_two_workers_never_post_the_same_reply(session, settings, drafts, clock):
    """Both workers read the draft as approved; only the first may take it into posting."""
    from kikimimi.errors import ConcurrentChange

    engine = get_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        mine = first.get(ReplyDraft, drafts[1].id)
        theirs = second.get(ReplyDraft, drafts[1].id)
        second.commit()
        transition(first, mine, "start_posting", SYSTEM, worker="w1", now=clock())
        first.commit()
        with pytest.raises(ConcurrentChange, match="someone else changed this reply"):
            transition(second, theirs, "start_posting", SYSTEM, worker="w2", now=clock())
        second.rollback()
        poster = FakePoster(clock)
        report = post(second, poster, clock, worker="w2")  # w1 holds a live lease: w2 leaves it alone
        assert poster.sent == [] and report.in_flight == [drafts[1].id] and poster.lookups == 0


def test_a_draft_claimed_between_queue_and_post_is_skipped_without_raising(session, settings, drafts, monkeypatch):
    import responder.posting as posting

    engine, real_transition = get_engine(settings.database_url), posting.transition

    def another_worker_gets_there_first(sess, draft, action, actor, **kwargs):
        if action == "start_posting":
            with Session(engine) as other:
                real_transition(other, other.get(ReplyDraft, draft.id), "start_posting", SYSTEM, worker="other")
                other.commit()
        return real_transition(sess, draft, action, actor, **kwargs)

    monkeypatch.setattr(posting, "transition", another_worker_gets_there_first)
    clock = Clock()
    poster = FakePoster(clock)
    report = post(session, poster, clock)
    assert poster.sent == [] and report.posted == []
    assert (drafts[1].id, "taken by another worker") in report.skipped


def test_a_worker_whose_lease_ran_out_does_not_call_the_platform(session, drafts, monkeypatch):
    """A worker paused (GC, a slow disk) between its claim and its call: the lease ran out, so it must not send."""
    import responder.posting as posting

    clock = Clock()
    real_transition = posting.transition

    def stall_after_claim(sess, draft, action, actor, **kwargs):
        result = real_transition(sess, draft, action, actor, **kwargs)
        if action == "start_posting":
            clock.now += timedelta(seconds=400)
        return result

    monkeypatch.setattr(posting, "transition", stall_after_claim)
    poster = FakePoster(clock)
    report = post(session, poster, clock, lease_seconds=300)
    assert poster.sent == [] and report.posted == []
    assert any("lease" in why for _, why in report.skipped)


def test_the_late_answer_of_a_worker_that_lost_its_lease_is_the_truth(session, settings, drafts, clock):
    engine = get_engine(settings.database_url)
    poster = FakePoster(clock)

    def slow_reply(post, text, *, idempotency_key):  # the call outlives the lease; reconciliation gives up on it
        poster.sent.append((post.external_id, text, idempotency_key, clock()))
        clock.now += timedelta(seconds=400)
        with Session(engine, expire_on_commit=False) as other:
            d = other.get(ReplyDraft, drafts[1].id)
            transition(other, d, "lease_expired", SYSTEM, now=clock())
            transition(other, d, "confirm_not_posted", SYSTEM, now=clock(), note="(a lookup that missed it)")
            other.commit()
        return "r1"

    poster.reply = slow_reply
    report = post(session, poster, clock, lease_seconds=300)
    session.refresh(drafts[1])
    assert report.posted == [drafts[1].id] and drafts[1].state == DraftState.posted
    assert drafts[1].posted_external_id == "r1" and any("late answer" in n for n in notes(session, drafts[1]))


def test_classify_failure_believes_only_clear_refusals():
    assert classify_failure(PlatformError("reddit", "THREAD_LOCKED")) == "refused"
    assert classify_failure(RateLimited("x")) == "not_sent"
    assert classify_failure(TransientPlatformError("x", "timeout")) == "unknown"
    assert classify_failure(TimeoutError()) == "unknown"
    assert classify_failure(ValueError("garbage")) == "unknown"


# --- the pause switch --------------------------------------------------------------------------------


@pytest.fixture
def admin(session):
    person = User(name="ada", role=Role.admin)
    session.add(person)
    session.commit()
    return person


def test_only_admins_pause_and_every_change_is_audited(session, users, admin):
    with pytest.raises(PermissionDenied, match="aki .*approver.* may not pause"):
        pause_posting(session, users["approver"], reason="no")
    state = pause_posting(session, admin, reason="shipping outage", now=T0)
    assert state.paused and (state.by, state.at, state.reason) == ("ada", T0, "shipping outage")
    resume_posting(session, admin, now=T0 + timedelta(hours=1))
    assert not is_posting_paused(session)
    log = session.exec(select(FlagEvent).order_by(FlagEvent.id)).all()
    assert [(e.enabled, e.actor, e.reason, e.at) for e in log] == [
        (True, "ada", "shipping outage", T0),
        (False, "ada", None, T0 + timedelta(hours=1)),
    ]


def test_a_paused_brand_posts_nothing_until_resumed(session, drafts, clock, admin):
    pause_posting(session, admin, reason="crisis")
    poster = FakePoster(clock)
    report = post(session, poster, clock)
    assert report.paused and poster.sent == [] and drafts[1].state == DraftState.approved
    resume_posting(session, admin)
    assert post(session, poster, clock).posted == [drafts[1].id]


def test_a_pause_set_after_the_claim_stops_the_call(session, settings, drafts, monkeypatch, admin):
    """Another machine's admin pauses between this worker's claim and its platform call."""
    import responder.posting as posting

    engine, real_check, checks = get_engine(settings.database_url), posting.is_posting_paused, []

    def pause_once_claimed(sess):
        checks.append(1)
        if len(checks) == 2:  # the check right before the platform call, after the claim
            with Session(engine) as other:
                pause_posting(other, other.get(User, admin.id), reason="now")
        return real_check(sess)

    monkeypatch.setattr(posting, "is_posting_paused", pause_once_claimed)
    clock = Clock()
    poster = FakePoster(clock)
    report = post(session, poster, clock)
    assert poster.sent == [] and report.paused and report.released == [drafts[1].id]
    assert drafts[1].state == DraftState.approved and "posting is paused" in " ".join(notes(session, drafts[1]))
