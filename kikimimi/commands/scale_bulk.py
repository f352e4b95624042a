"""Loading a bench database in bulk: rows in with PostgreSQL's COPY, the tables' own triggers and secondary indexes
out of the way while they go in, and what the triggers would have written filled afterwards in set-based statements.

Row by row, a million posts cost the server more than the builder: every row fired the summaries' triggers
(migrations 0015-0016) and updated a dozen indexes. Here the indexes are built once from the loaded rows and the
triggers' work is done in one statement per kind; the database ends the same as one loaded row by row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

# What the summaries' triggers write when rows are inserted (0015, 0016): every post (its own row, its parent's
# answer, its analysis, its draft) marked for the service-level summary, every post's hour for the spike counts,
# and every FAQ member's copies of its post and analysis.
_HOURS = {
    "postgresql": "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', created_at)",
}
_HOUR_END = {
    "postgresql": "{start} + interval '1 hour'",
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', created_at, '+1 hour')",
}
_MOOD = {
    "postgresql": "CAST((a.sentiment_scores ->> 'positive') AS FLOAT)"
    " - CAST((a.sentiment_scores ->> 'negative') AS FLOAT)",
    "sqlite": "CAST(JSON_EXTRACT(a.sentiment_scores, '$.\"positive\"') AS FLOAT)"
    " - CAST(JSON_EXTRACT(a.sentiment_scores, '$.\"negative\"') AS FLOAT)",
}


@contextmanager
def suspended(conn: Any, tables: Iterable[str]) -> Iterator[None]:
    """Inside: the tables' own triggers off, their secondary indexes dropped and (PostgreSQL) their foreign keys
    too; primary keys and unique constraints stay. On leaving normally: the indexes and foreign keys back, what
    the insert triggers would have written filled in, the triggers back. All in the caller's transaction, so a
    failed build leaves nothing half done."""
    tables = list(tables)
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")  # index builds sort in memory
        indexes = conn.exec_driver_sql(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid::regclass::text = ANY(%(t)s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            {"t": tables},
        ).all()
        # foreign keys checked row by row cost as much as the rows: checked once, set-based, when added back
        foreign_keys = conn.exec_driver_sql(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%(t)s)",
            {"t": tables},
        ).all()
        for table in tables:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for table, name, _sql in foreign_keys:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    else:
        marks = ", ".join("?" * len(tables))
        indexes = conn.exec_driver_sql(
            f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "  # noqa: S608
            f"AND tbl_name IN ({marks}) AND sql IS NOT NULL",
            tuple(tables),
        ).all()
        for kind, name, _sql in indexes:
            conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    yield
    for *_, sql in indexes if postgresql else [i for i in indexes if i[0] == "index"]:
        conn.exec_driver_sql(sql)
    for table, name, sql in foreign_keys if postgresql else []:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {sql}')
    fill_trigger_work(conn)
    if postgresql:
        for table in tables:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    else:
        for _kind, _name, sql in (i for i in indexes if i[0] == "trigger"):
            conn.exec_driver_sql(sql)


def fill_trigger_work(conn: Any) -> None:
    """What the insert triggers write for rows loaded without them, in one statement each."""
    dialect = conn.dialect.name
    start = _HOURS[dialect]
    conn.exec_driver_sql("INSERT INTO responsedirty (post_id) SELECT id FROM post")
    conn.exec_driver_sql(
        f"INSERT INTO hourdirty (hour_start, hour_end) SELECT hour_start, MIN(hour_end) FROM "  # noqa: S608
        f"(SELECT {start} AS hour_start, {_HOUR_END[dialect].format(start=start)} AS hour_end FROM post) h "
        "GROUP BY hour_start"
    )
    conn.exec_driver_sql(
        "UPDATE faqmember SET post_created_at = p.created_at, post_platform = p.platform, "  # noqa: S608
        f"post_deleted_at = p.deleted_at, post_language = a.language, post_mood = {_MOOD[dialect]} "
        "FROM post p LEFT JOIN analysis a ON a.post_id = p.id WHERE p.id = faqmember.post_id"
    )


def copy_rows(conn: Any, table: Any, rows: Iterable[dict], columns: list[str]) -> int:
    """COPY `rows` (dicts keyed by column name) into `table` on PostgreSQL; JSON columns serialised as the ORM
    does. Returns the rows written."""
    json_columns = {c.name for c in table.c if isinstance(c.type, sa.JSON)}
    cursor = conn.connection.driver_connection.cursor()
    quoted = ", ".join(f'"{c}"' for c in columns)
    n = 0
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([json.dumps(row.get(c)) if c in json_columns else row.get(c) for c in columns])
            n += 1
    return n
