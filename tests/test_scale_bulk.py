"""The bench builder's bulk path (COPY, triggers and secondary indexes set aside, their work done afterwards) leaves
the same database as loading row by row through the triggers: every row of every table, on SQLite and PostgreSQL,
and the same summaries once a pass brings them up to date."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from kikimimi.commands.scale import _summarise
from kikimimi.commands.scale_data import build
from kikimimi.db import get_engine

POSTS = 400
SURROGATES = {("hourcount", "id"), ("responsehour", "id")}


def _contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table the project defines, in a stable order, plus the indexes, foreign keys and triggers."""
    engine = get_engine(url)
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            # the hour summaries' ids are surrogates numbered in whatever order the server grouped the hours
            columns = [c for c in table.c if (table.name, c.name) not in SURROGATES]
            rows = conn.execute(sa.select(*columns)).all()
            out[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=str)
        inspector = sa.inspect(conn)
        names = inspector.get_table_names()
        out["indexes"] = sorted((t, i["name"], str(i["column_names"])) for t in names for i in inspector.get_indexes(t))
        out["foreign keys"] = sorted((t, str(k)) for t in names for k in inspector.get_foreign_keys(t))
        if conn.dialect.name == "postgresql":
            triggers = "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal"
        else:
            triggers = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        out["triggers"] = sorted(conn.exec_driver_sql(triggers).all())
    engine.dispose()
    return out


def _same_both_ways(row_by_row: str, bulk: str) -> None:
    built = {path: build(url, POSTS, bulk=path == "bulk") for path, url in (("rows", row_by_row), ("bulk", bulk))}
    assert built["bulk"].counts == built["rows"].counts
    assert built["bulk"].counts["post"] == POSTS and built["bulk"].counts["postgram"] > 10 * POSTS
    before = {path: _contents(url) for path, url in (("rows", row_by_row), ("bulk", bulk))}
    assert before["bulk"]["responsedirty"] and before["bulk"]["hourdirty"]  # the triggers' marks, filled afterwards
    assert any(row[-1] != "None" for row in before["bulk"]["faqmember"])  # the members' copies of their posts
    for table in before["rows"]:
        assert before["bulk"][table] == before["rows"][table], table
    for url in (row_by_row, bulk):
        _summarise(url)
    after = {path: _contents(url) for path, url in (("rows", row_by_row), ("bulk", bulk))}
    assert after["bulk"]["responsefact"] and after["bulk"]["hourcount"]
    for table in after["rows"]:
        only_rows = sorted(set(after["rows"][table]) - set(after["bulk"][table]))[:2]
        only_bulk = sorted(set(after["bulk"][table]) - set(after["rows"][table]))[:2]
        assert after["bulk"][table] == after["rows"][table], (table, only_rows, only_bulk)


@pytest.fixture
def frozen(clock, monkeypatch):  # noqa: ANN001, ANN201
    """Both builds stamp the same `now`; questions embed by a stand-in for the encoder (what is compared is how
    the rows are loaded, not what the encoder makes of them: its load and inference took most of this test)."""
    import nlp_models.faq

    def embed(texts: list[str]) -> np.ndarray:
        return np.array([[hash(t) % 997, len(t), t.count(" ")] for t in texts], dtype=np.float32)

    monkeypatch.setattr(nlp_models.faq, "embed", embed)
    clock.frozen = True
    return clock


def test_bulk_build_equals_row_by_row_on_sqlite(tmp_path, frozen):
    _same_both_ways(f"sqlite:///{tmp_path / 'rows.sqlite3'}", f"sqlite:///{tmp_path / 'bulk.sqlite3'}")


def test_bulk_build_equals_row_by_row_on_postgresql(frozen):
    from tests.postgres_server import required_postgres

    with required_postgres() as server:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in ("rows", "bulk"):
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        base = sa.make_url(server)
        urls = [base.set(database=name).render_as_string(hide_password=False) for name in ("rows", "bulk")]
        _same_both_ways(*urls)
