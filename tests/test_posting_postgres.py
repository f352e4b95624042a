"""Posting exactly once on a real PostgreSQL server: the claim is atomic across connections, three workers at once."""

import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from kikimimi.db import get_engine, migrate
from kikimimi.errors import ConcurrentChange
from kikimimi.models import Author, DraftState, Post, ReplyDraft, Role, User
from responder.pause import pause_posting, resume_posting
from responder.posting import post_approved
from responder.workflow import SYSTEM, transition
from tests.postgres_server import required_postgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_url():
    with required_postgres() as url:
        migrate(url)  # 0001 → 0003 on PostgreSQL
        yield url


class ThreadSafePoster:
    platform = "x"

    def __init__(self):
        self.lock, self.sent = threading.Lock(), []

    def reply(self, post, text, *, idempotency_key):
        with self.lock:
            self.sent.append(idempotency_key)
            return f"r{len(self.sent)}"

    def find_reply(self, post, *, idempotency_key):
        return None


def approved_drafts(url, n, tag):
    with Session(get_engine(url), expire_on_commit=False) as s:
        approver = s.exec(select(User).where(User.name == "aki")).first() or User(name="aki", role=Role.approver)
        author = Author(platform="x", external_id=f"u-{tag}", handle="mika")
        s.add_all([approver, author])
        s.commit()
        ids = []
        for i in range(n):
            post = Post(
                platform="x",
                external_id=f"{tag}-{i}",
                text="where is my order?",
                author_id=author.id,
                created_at=datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
                replyable=True,
            )
            s.add(post)
            s.commit()
            draft = ReplyDraft(post_id=post.id, text=f"Hi Mika ({i})")
            s.add(draft)
            s.commit()
            transition(s, draft, "approve", approver)
            s.commit()
            ids.append(draft.id)
    return ids


def test_three_connections_claim_one_draft_and_exactly_one_wins(pg_url):
    [draft_id] = approved_drafts(pg_url, 1, "claim")
    barrier, outcomes = threading.Barrier(3), []

    def claim(worker):
        with Session(get_engine(pg_url), expire_on_commit=False) as s:
            draft = s.get(ReplyDraft, draft_id)
            s.commit()
            barrier.wait()
            try:
                transition(s, draft, "start_posting", SYSTEM, worker=worker)
                s.commit()
                outcomes.append(("won", worker))
            except ConcurrentChange:
                s.rollback()
                outcomes.append(("lost", worker))

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o for o, _ in outcomes) == ["lost", "lost", "won"]
    with Session(get_engine(pg_url)) as s:
        draft = s.get(ReplyDraft, draft_id)
        assert draft.state == DraftState.posting and draft.lease_owner == next(w for o, w in outcomes if o == "won")


def test_three_workers_post_every_draft_once_and_none_raises(pg_url):
    ids = approved_drafts(pg_url, 8, "race")
    poster, errors, barrier = ThreadSafePoster(), [], threading.Barrier(3)

    def work(worker):
        try:
            with Session(get_engine(pg_url), expire_on_commit=False) as s:
                barrier.wait()
                post_approved(s, {"x": poster}, live=True, worker=worker)
        except Exception as exc:  # noqa: BLE001 - the test reports any
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    keys = [f"kikimimi-draft-{i}" for i in ids]
    assert sorted(k for k in poster.sent if k in keys) == sorted(keys)  # each once, none twice
    with Session(get_engine(pg_url)) as s:
        assert {s.get(ReplyDraft, i).state for i in ids} == {DraftState.posted}


def test_the_pause_switch_on_postgres(pg_url):
    [draft_id] = approved_drafts(pg_url, 1, "pause")
    with Session(get_engine(pg_url), expire_on_commit=False) as s:
        admin = User(name="ada-pg", role=Role.admin)
        s.add(admin)
        s.commit()
        pause_posting(s, admin, reason="crisis")
        poster = ThreadSafePoster()
        assert post_approved(s, {"x": poster}, live=True).paused and poster.sent == []
        resume_posting(s, admin)
        assert draft_id in post_approved(s, {"x": poster}, live=True).posted
