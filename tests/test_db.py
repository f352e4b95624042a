from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import StatementError
from sqlmodel import Session, SQLModel, select

from kikimimi.db import get_engine, migrate
from kikimimi.errors import ConfigError
from kikimimi.models import Author, Post


def test_migrations_create_every_table_and_match_the_models(settings):
    migrate(settings.database_url)
    engine = get_engine(settings.database_url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "post",
        "author",
        "analysis",
        "faqcluster",
        "faqmember",
        "replydraft",
        "reviewevent",
        "cursor",
        "collectorrun",
        "user",
        "brand",
        "listeningquery",
        "alembic_version",
    } <= tables
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrate_twice_is_harmless(settings):
    migrate(settings.database_url)
    migrate(settings.database_url)


def test_timestamps_come_back_aware_utc(session):
    tokyo = timezone(timedelta(hours=9))
    author = Author(platform="x", external_id="1", handle="a")
    session.add(author)
    session.commit()
    post = Post(
        platform="x",
        external_id="p",
        text="t",
        author_id=author.id,
        created_at=datetime(2026, 11, 3, 18, 0, tzinfo=tokyo),
    )
    session.add(post)
    session.commit()
    session.expunge_all()
    stored = session.exec(select(Post)).one()
    assert stored.created_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session):
    author = Author(platform="x", external_id="1", handle="a")
    session.add(author)
    session.commit()
    session.add(Post(platform="x", external_id="p", text="t", author_id=author.id, created_at=datetime(2026, 11, 3)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_a_bad_database_url_is_a_config_error():
    with pytest.raises(ConfigError, match="database_url"):
        get_engine("not a url")


def test_sqlite_folder_is_created(tmp_path):
    url = f"sqlite:///{tmp_path}/deep/er/k.sqlite3"
    migrate(url)
    assert (tmp_path / "deep" / "er" / "k.sqlite3").exists()
    with Session(get_engine(url)) as s:
        assert s.exec(select(Post)).all() == []


def test_the_alembic_command_acts_on_the_configured_database_and_nowhere_else(tmp_path, monkeypatch):
    import alembic.config
    from sqlalchemy import create_engine

    ini = str(Path(__file__).parent.parent / "alembic.ini")
    configured, chosen = tmp_path / "configured.sqlite3", tmp_path / "chosen.sqlite3"
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", f"sqlite:///{configured}")
    alembic.config.main(argv=["-c", ini, "upgrade", "head"])
    alembic.config.main(argv=["-c", ini, "-x", f"url=sqlite:///{chosen}", "upgrade", "head"])
    for path in (configured, chosen):
        assert "replydraft" in inspect(create_engine(f"sqlite:///{path}")).get_table_names()
    assert not list(tmp_path.glob("kikimimi-dev*")) and not list(Path.cwd().glob("kikimimi-dev*"))
