"""Shared fixtures: every test gets its own data dir (so its own SQLite file) and no user config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from kikimimi.db import get_engine, migrate
from kikimimi.models import AuthorCreate, PostCreate, Role, User
from kikimimi.settings import EXAMPLE_CONFIG, Settings, load_settings
from kikimimi.timeutil import Clock, using_clock
from tests.databases import copy_database, sqlite_file
from tests.faketime_support import patch_sleep

patch_sleep()  # tests/faketime_support.py says why

# The moment every test runs at. No test reads the wall clock: `.ci/run` also runs the suite months ahead.
TEST_NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # after every recorded fixture


@pytest.fixture(autouse=True)
def clock() -> Iterator[Clock]:
    """The one clock, started at TEST_NOW and running; tests that need it still call `.set()` or `.advance()`."""
    with using_clock(Clock(TEST_NOW)) as fixed:
        yield fixed


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the developer's config or writes to their data directory."""
    for name in list(os.environ):
        if name.startswith("KIKIMIMI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KIKIMIMI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def settings() -> Settings:
    return load_settings(EXAMPLE_CONFIG)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample feed after one whole pipeline pass at TEST_NOW, as the embedded default stores it.

    Built once per test process (the pass takes tens of seconds); `sample_feed_run` gives each test its own copy.
    """
    from kikimimi.pipeline import run_once  # the whole pipeline: only the tests that need it load it

    home = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp, using_clock(Clock(TEST_NOW)):
        for name in [n for n in os.environ if n.startswith("KIKIMIMI_")]:
            mp.delenv(name)
        mp.setenv("KIKIMIMI_DATA_DIR", str(home))
        settings = load_settings(EXAMPLE_CONFIG)
        run_once(settings)
        get_engine(settings.database_url).dispose()
    return sqlite_file(settings.database_url)


@pytest.fixture
def sample_feed_run(settings: Settings, demo_database: Path) -> Settings:
    """`settings`, whose database holds the sample feed after one pipeline pass (a copy of `demo_database`)."""
    copy_database(demo_database, sqlite_file(settings.database_url))
    return settings


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    migrate(settings.database_url)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as s:
        yield s


@pytest.fixture
def users(session: Session) -> dict[str, User]:
    people = {
        "viewer": User(name="vera", role=Role.viewer),
        "responder": User(name="rin", role=Role.responder),
        "approver": User(name="aki", role=Role.approver),
    }
    session.add_all(people.values())
    session.commit()
    return people


def make_post(external_id: str = "1", *, platform: str = "x", text: str = "hello", **overrides) -> PostCreate:
    """A minimal valid post for store/workflow tests."""
    author = overrides.pop("author", None) or AuthorCreate(
        platform=platform, external_id=f"u{external_id}", handle=f"user{external_id}", display_name="Mika Tanaka"
    )
    fields = {
        "platform": platform,
        "external_id": external_id,
        "text": text,
        "created_at": datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
        "replyable": True,
        "replyable_reason": "test",
        "author": author,
    }
    fields.update(overrides)
    return PostCreate(**fields)
