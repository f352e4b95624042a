"""A throwaway PostgreSQL server for integration tests (Debian's `postgresql` package; .ci/run installs it)."""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_bin(name: str) -> str | None:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a private server on a Unix socket in a temp dir; yield its SQLAlchemy URL; stop and delete it."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise FileNotFoundError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="kikimimi-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    data, port = root / "data", _free_port()
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "kikimimi", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://kikimimi@/postgres?host={root}&port={port}"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_shared: list = []  # the test process's one server: (its context manager, its URL)


def _server_url() -> str:
    """This test process's server, started on first use and stopped when the process exits."""
    if not _shared:
        server = postgres_server()
        _shared.append((server, server.__enter__()))
        atexit.register(server.__exit__, None, None, None)
    return _shared[0][1]


def fresh_database(url: str, prefix: str = "t") -> str:
    """A new, empty database with a unique name on the server behind `url`; returns its URL."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def required_postgres() -> Iterator[str]:
    """A fresh database for a test module on this process's private server (started once: initdb costs seconds).

    Skipped where PostgreSQL is not installed, a failure in CI.
    """
    import pytest

    if not find_bin("initdb"):
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: .ci/run installs the postgresql package")
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    yield fresh_database(_server_url(), "module")


@contextmanager
def postgres_session() -> Iterator:
    """`required_postgres()` migrated to the newest schema, as a Session (objects stay readable after a commit)."""
    from sqlmodel import Session

    from kikimimi.db import get_engine, migrate

    with required_postgres() as url:
        migrate(url)
        with Session(get_engine(url), expire_on_commit=False) as session:
            yield session
