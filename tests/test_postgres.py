"""The same storage paths on a real PostgreSQL server (the production database)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from kikimimi.db import get_engine, migrate
from kikimimi.models import Analysis, Post
from kikimimi.pipeline import run_once
from kikimimi.settings import EXAMPLE_CONFIG, load_settings
from kikimimi.timeutil import utcnow
from listener.store import upsert_posts
from responder.alerts import waiting_posts
from responder.spikes import hourly_counts
from tests.conftest import make_post
from tests.postgres_server import fresh_database, required_postgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_url():
    with required_postgres() as url:
        yield url


def test_migrations_and_idempotent_upserts_on_postgres(pg_url):
    migrate(pg_url)
    with Session(get_engine(pg_url)) as s:
        first = upsert_posts(s, [make_post(str(i)) for i in range(10)])
        second = upsert_posts(s, [make_post(str(i)) for i in range(12)])
        s.commit()
        assert (first.new, second.new, second.duplicates) == (10, 2, 10)
        stored = s.exec(select(Post).where(Post.external_id == "1")).one()
        assert stored.created_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def test_the_whole_pipeline_runs_on_postgres(pg_url, monkeypatch):
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", pg_url)
    settings = load_settings(EXAMPLE_CONFIG)
    run_once(settings)
    again = run_once(settings)
    with Session(get_engine(pg_url)) as s:
        posts = s.exec(select(func.count()).select_from(Post)).one()
    assert posts >= 400 and again.runs[0].new_posts == 0 and again.analysed == 0


def test_hourly_counts_and_waiting_posts_agree_on_postgres(pg_url, settings, session):
    """The one dialect-specific expression (a post's UTC hour) counts alike on SQLite and PostgreSQL."""

    from kikimimi.db import get_engine, migrate

    now = utcnow()
    posts = [make_post(str(i), created_at=now - timedelta(minutes=25 * i)) for i in range(1, 9)]

    def fill(s) -> tuple[list, list]:  # noqa: ANN001 - a Session
        ids = upsert_posts(s, posts).new_post_ids
        for n, post_id in enumerate(ids):
            sentiment = "negative" if n % 3 == 0 else "neutral"
            s.add(Analysis(post_id=post_id, language="en", sentiment=sentiment, intent="other", needs_reply=True))
        s.commit()
        counts = hourly_counts(s, since=now - timedelta(days=1), until=now)
        rows = sorted(counts.itertuples(index=False, name=None))
        return rows, sorted(w.post.external_id for w in waiting_posts(s, settings, now))

    on_sqlite = fill(session)
    url = fresh_database(pg_url, "hourly_counts")  # the other tests' posts would count too
    migrate(url)
    with Session(get_engine(url), expire_on_commit=False) as pg:
        on_postgres = fill(pg)
    assert on_sqlite == on_postgres and sum(r[4] for r in on_sqlite[0]) == 8
    assert on_sqlite[1] == ["2", "3", "4"]  # past 45 of the 60 minutes, and collected within 120 of posting
