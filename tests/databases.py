"""SQLite files for tests: where a URL keeps its database, and a consistent copy of one."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def sqlite_file(url: str) -> Path:
    assert url.startswith("sqlite:///"), url
    return Path(url.removeprefix("sqlite:///"))


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database `source` (its write-ahead log included) at `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
