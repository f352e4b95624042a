"""Alembic environment: runs against the connection Kikimimi passes in, or the configured database."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from kikimimi.models import UTCDateTime  # also registers the tables on SQLModel.metadata

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from kikimimi.db import get_engine, sqlite_schema_lock  # SQLite gets its folder and pragmas, and its lock

    engine = get_engine(_database_url())
    with sqlite_schema_lock(engine), engine.begin() as conn:
        _run(conn)


def _database_url() -> str:
    """`-x url=...`, else the URL set by Kikimimi itself (`migrate`), else Kikimimi's settings — the database
    every other command uses, never a file of alembic's own."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from kikimimi.settings import load_settings

    return load_settings(fallback_to_example=True).database_url


def _render_item(type_: str, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Render our UTCDateTime as the plain column type it stores, so migrations never import live models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    from kikimimi.db import schema_lock  # PostgreSQL: processes that start together migrate one after the other

    with schema_lock(connection):
        _configure_and_run(connection)


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
