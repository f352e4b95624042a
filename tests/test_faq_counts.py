"""The FAQ list's figures per cluster come from the members' own copies of their post's and analysis's figures
(kept by database triggers, migration 0016): whatever changes a post or an analysis, by the ORM or a bulk
statement, the list shows what a join of every member's post and analysis shows, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from kikimimi.models import Analysis, FaqCluster, FaqMember, Post
from listener.store import upsert_posts
from responder import faq
from tests.conftest import make_post
from tests.postgres_server import postgres_session

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _joined(session: Session) -> dict[int, tuple]:
    """Each cluster's figures from a join of every member's post and analysis: what the list showed before."""
    rows = session.exec(
        select(FaqMember.cluster_id, Post.created_at, Post.platform, Analysis.language, Analysis.sentiment_scores)
        .join(Post, col(Post.id) == col(FaqMember.post_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Post.deleted_at).is_(None), col(Post.created_at) <= NOW)
    ).all()
    out: dict[int, list] = {}
    for cid, at, platform, language, scores in rows:
        out.setdefault(cid, []).append((at.replace(tzinfo=UTC), platform, language, scores))
    figures = {}
    for cid, members in out.items():
        moods = [s["positive"] - s["negative"] for *_, s in members]
        figures[cid] = (
            len(members),
            sum(at > NOW - timedelta(days=7) for at, *_ in members),
            sum(NOW - timedelta(days=14) < at <= NOW - timedelta(days=7) for at, *_ in members),
            round(sum(moods) / len(moods), 3),
            min(at for at, *_ in members),
            max(at for at, *_ in members),
            dict(Counter(p for _, p, _, _ in members)),
            dict(Counter(lang for _, _, lang, _ in members)),
        )
    return figures


def _listed(session: Session) -> dict[int, tuple]:
    return {
        c.id: (
            c.size,
            c.this_week,
            c.last_week,
            c.average_sentiment,
            c.first_seen,
            c.last_seen,
            c.platforms,
            c.languages,
        )
        for c in faq.candidates(session, now=NOW, examples=0)
    }


def _scores(positive: float, negative: float) -> dict:
    return {"positive": positive, "negative": negative, "neutral": round(1 - positive - negative, 2)}


def _check_every_change(session: Session) -> None:
    made = [
        make_post(f"q{i}", platform=("x", "reddit")[i % 2], text=f"question {i}?", created_at=NOW - timedelta(days=i))
        for i in range(1, 13)
    ]
    ids = upsert_posts(session, made).new_post_ids
    for n, post_id in enumerate(ids[:-1]):  # the last is not analysed yet
        language = "ja" if n % 3 == 0 else "en"
        session.add(Analysis(post_id=post_id, language=language, sentiment="neutral", intent="product_question",
                             sentiment_scores=_scores(0.11 * (n % 5), 0.07 * (n % 4))))  # fmt: skip
    first, second = FaqCluster(label="shipping"), FaqCluster(label="payment")
    session.add_all([first, second])
    session.flush()
    session.add_all(FaqMember(post_id=p, cluster_id=(first.id if k < 8 else second.id)) for k, p in enumerate(ids))
    session.commit()
    for cluster in (first, second):
        cluster.size = 6
    session.commit()
    assert _listed(session) == _joined(session) and _listed(session)[first.id][0] == 8

    # an analysis that arrives after the member, a sentiment and a language changed in bulk, and by the ORM
    session.add(Analysis(post_id=ids[-1], language="en", sentiment="negative", intent="complaint",
                         sentiment_scores=_scores(0.0, 0.9)))  # fmt: skip
    session.execute(sa.update(Analysis).where(col(Analysis.post_id) == ids[0]).values(sentiment_scores=_scores(0, 1)))
    analysis = session.exec(select(Analysis).where(Analysis.post_id == ids[1])).one()
    analysis.language = "ja"
    session.commit()
    assert _listed(session) == _joined(session)

    # a post deleted on its platform, one moved in time, one moved to another platform, an analysis removed
    session.execute(sa.update(Post).where(col(Post.id) == ids[2]).values(deleted_at=NOW))
    session.execute(sa.update(Post).where(col(Post.id) == ids[3]).values(created_at=NOW - timedelta(days=30)))
    session.execute(sa.update(Post).where(col(Post.id) == ids[4]).values(platform="bluesky"))
    session.execute(sa.delete(Analysis).where(col(Analysis.post_id) == ids[5]))
    # and a member moved into the other cluster, as a merge does
    session.execute(sa.update(FaqMember).where(col(FaqMember.post_id) == ids[6]).values(cluster_id=second.id))
    session.commit()
    listed = _listed(session)
    assert listed == _joined(session)
    assert listed[first.id][0] == 8 - 3  # deleted, unanalysed and moved away: no longer counted
    assert listed[first.id][6].get("bluesky") == 1 and listed[first.id][3] is not None

    # the post of a member is gone altogether (its member first, as erasure does)
    session.execute(sa.delete(FaqMember).where(col(FaqMember.post_id) == ids[7]))
    session.commit()
    assert _listed(session) == _joined(session)


def test_the_list_counts_what_a_join_of_the_members_posts_counts(session):
    _check_every_change(session)


@pytest.mark.integration
def test_the_list_counts_the_same_on_postgres():
    with postgres_session() as s:
        _check_every_change(s)
