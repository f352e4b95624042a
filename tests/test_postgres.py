"""The same storage paths on a real PostgreSQL server (the production database)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, func, select

from kikimimi.db import get_engine, migrate
from kikimimi.models import Post
from kikimimi.pipeline import run_once
from kikimimi.settings import EXAMPLE_CONFIG, load_settings
from listener.store import upsert_posts
from tests.conftest import make_post
from tests.postgres_server import required_postgres

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
