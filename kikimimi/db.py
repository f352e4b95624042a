"""Database engine, sessions and migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import fcntl
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, create_engine, func, select

from kikimimi.errors import ConfigError
from kikimimi.models import Role, User
from kikimimi.redact import redact_url
from kikimimi.settings import Settings

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_LOCK_KEY = 0x6B696B69  # "kiki": the PostgreSQL advisory lock every migration takes first
RETRIES = 4  # a statement that lost a deadlock or serialisation race is tried this many times in all
_RETRY_BASE_SECONDS = 0.05
T = TypeVar("T")


@cache
def get_engine(url: str) -> Engine:
    """One engine per URL. SQLite gets its folder created, foreign keys on, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        raise ConfigError(f"setting 'database_url': not a database URL: {redact_url(url)!r}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"setting 'database_url': cannot create {folder} ({exc.strerror})") from None
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # PostgreSQL compiles (JIT) every statement its planner costs above `jit_above_cost`: a dashboard aggregate over a
    # period, estimated high and run in well under a second, spent as long again compiling (trends at a million
    # posts: 510 of 1,256 ms). Options given in the URL are the operator's and win.
    connect_args = {} if "options" in parsed.query else {"options": "-c jit=off"}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of pages kept per connection (SQLite's default is 2 MiB): a page's statements read the same index
    # ranges again, from memory instead of from the operating system (at 100k posts a trends query ran 2x faster)
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def schema_lock(connection: Connection) -> Iterator[None]:
    """Inside a migration's transaction: hold PostgreSQL's one migration lock until it commits, so processes that
    start together migrate one after the other (SQLite: `sqlite_schema_lock` around the whole transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
    yield


@contextmanager
def sqlite_schema_lock(engine: Engine) -> Iterator[None]:
    """Around a migration's whole transaction (commit included): a lock on a file beside a SQLite database."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with Path(f"{database}.migrate-lock").expanduser().open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def insert_for(session_or_connection: Any, model: type):  # type: ignore[no-untyped-def]
    """The dialect's INSERT for `model` (both have ON CONFLICT ... DO NOTHING / DO UPDATE)."""
    dialect = session_or_connection.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"unsupported database dialect: {dialect}")


def lost_a_race(exc: BaseException) -> bool:
    """A deadlock or serialisation failure (PostgreSQL), or a busy SQLite database: worth trying again."""
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc.orig)


def retry_lost_races(session: Session, work: Callable[[], T], *, what: str) -> T:
    """Run `work` in a SAVEPOINT; when it loses a deadlock or serialisation race, roll that back and run it again."""
    for attempt in range(1, RETRIES + 1):
        try:
            with session.begin_nested():
                return work()
        except DBAPIError as exc:
            if attempt == RETRIES or not lost_a_race(exc):
                raise
            log.info("%s lost a race with another process (%s): trying again", what, type(exc.orig).__name__)
            time.sleep(_RETRY_BASE_SECONDS * attempt * (1 + random.random()))  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (creating it if needed)."""
    engine = get_engine(url)
    with sqlite_schema_lock(engine), engine.begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    log.debug("database at %s is at the newest schema", engine.url.render_as_string(hide_password=True))


def open_session(settings: Settings) -> Session:
    """A session on the newest schema; a brand-new database also gets its first admin."""
    migrate(settings.database_url)
    session = Session(get_engine(settings.database_url), expire_on_commit=False)
    ensure_default_users(session)
    return session


def ensure_default_users(session: Session) -> None:
    """A fresh database gets one admin, so the dashboard can approve out of the box."""
    if session.exec(select(func.count()).select_from(User)).one() == 0:
        # another process starting on the same fresh database may add it first: that is the same admin
        session.execute(insert_for(session, User).values(name="admin", role=Role.admin).on_conflict_do_nothing())
        session.commit()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def database_unreachable(exc: OperationalError) -> str:
    """One line for a database that cannot be reached or opened: the driver's first line names the host."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"cannot use the database: {redact_url(first)[:300]}"
