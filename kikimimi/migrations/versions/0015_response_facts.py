"""Service levels, spikes and the queue's count at a million posts: summaries kept right by triggers, an index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 18:30:00

`responsefact` holds one row per post of our own brands that needed a reply, with its first answers looked up;
`responsedirty` lists the posts whose row may be out of date; `hourcount` and `hourdirty` do the same for the posts
per UTC hour, query, platform and language that spike detection counts. Triggers on every table a row is computed from
mark a post dirty in the same transaction that changes it (bulk statements and erasure included), so a reader
never trusts a stale row: it reads dirty posts live. The rows are filled by the pipeline pass (and
`kikimimi db rebuild-summaries`); until then every figure is computed live, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)

# (trigger name, table, event, the posts it marks dirty: a SELECT of post ids using NEW or OLD)
PARENT = (
    "SELECT p.id FROM post p WHERE {r}.is_brand_reply"
    " AND p.platform = {r}.platform AND p.external_id = {r}.parent_external_id"
)
MARKS = [
    ("post_ins", "post", "INSERT", ["SELECT NEW.id", PARENT.format(r="NEW")]),
    (
        "post_upd",
        "post",
        "UPDATE OF platform, external_id, author_id, brand_id, created_at, ingested_at, deleted_at, is_brand_reply,"
        " parent_external_id",
        ["SELECT NEW.id", PARENT.format(r="NEW"), PARENT.format(r="OLD")],
    ),
    ("post_del", "post", "DELETE", [PARENT.format(r="OLD")]),
    ("analysis_ins", "analysis", "INSERT", ["SELECT NEW.post_id"]),
    (
        "analysis_upd",
        "analysis",
        "UPDATE OF post_id, language, sentiment, needs_reply",
        ["SELECT NEW.post_id", "SELECT OLD.post_id"],
    ),
    ("analysis_del", "analysis", "DELETE", ["SELECT OLD.post_id"]),
    ("draft_ins", "replydraft", "INSERT", ["SELECT NEW.post_id"]),
    (
        "draft_upd",
        "replydraft",
        "UPDATE OF post_id, state, posted_at, hand_replied_at",
        ["SELECT NEW.post_id", "SELECT OLD.post_id"],
    ),
    ("draft_del", "replydraft", "DELETE", ["SELECT OLD.post_id"]),
    ("postquery_ins", "postquery", "INSERT", ["SELECT NEW.post_id"]),
    ("postquery_del", "postquery", "DELETE", ["SELECT OLD.post_id"]),
    (
        "query_upd",
        "listeningquery",
        "UPDATE OF competitor",
        ["SELECT q.post_id FROM postquery q WHERE q.query_id = NEW.id"],
    ),
    ("brand_upd", "brand", "UPDATE OF name", ["SELECT p.id FROM post p WHERE p.brand_id = NEW.id"]),
    (
        "author_upd",
        "author",
        "UPDATE OF handle, platform",
        [
            "SELECT p.id FROM post r JOIN post p ON p.platform = r.platform AND p.external_id = r.parent_external_id"
            " WHERE r.author_id = NEW.id AND r.is_brand_reply"
        ],
    ),
]


# (trigger name, table, event, the created_at of the posts whose hour it marks dirty, FROM clause or None)
HOUR_MARKS = [
    ("post_ins", "post", "INSERT", [("NEW.created_at", None)]),
    (
        "post_upd",
        "post",
        "UPDATE OF platform, query_id, created_at, deleted_at, is_brand_reply",
        [("NEW.created_at", None), ("OLD.created_at", None)],
    ),
    ("post_del", "post", "DELETE", [("OLD.created_at", None)]),
    ("analysis_ins", "analysis", "INSERT", [("p.created_at", "post p WHERE p.id = NEW.post_id")]),
    (
        "analysis_upd",
        "analysis",
        "UPDATE OF post_id, language, sentiment, is_spam",
        [("p.created_at", "post p WHERE p.id = NEW.post_id"), ("p.created_at", "post p WHERE p.id = OLD.post_id")],
    ),
    ("analysis_del", "analysis", "DELETE", [("p.created_at", "post p WHERE p.id = OLD.post_id")]),
]


def _hour_marks(postgresql: bool) -> list[tuple[str, str, str, list[str]]]:
    """HOUR_MARKS as (name, table, event, SELECTs of (hour_start, hour_end)) in the dialect's time arithmetic."""
    out = []
    for name, table, event, marks in HOUR_MARKS:
        selects = []
        for moment, source in marks:
            if postgresql:
                start = f"date_trunc('hour', {moment} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
                span = f"{start}, {start} + interval '1 hour'"
            else:  # the text SQLite stores a time as
                span = (
                    f"strftime('%Y-%m-%d %H:00:00.000000', {moment}) AS hour_start, "
                    f"strftime('%Y-%m-%d %H:00:00.000000', {moment}, '+1 hour') AS hour_end"
                )
            selects.append(f"SELECT {span}" + (f" FROM {source}" if source else ""))
        out.append((f"hc_{name}", table, event, selects))
    return out


# SQLite applies the conflict policy of the statement that fired a trigger (an upsert's) to the trigger's own
# statements, so INSERT OR IGNORE would fail there: each mark skips the ones already marked instead.
def _new_only(mark: str) -> str:
    head, sep, tail = mark.partition(" FROM ")
    return (
        f"SELECT DISTINCT id FROM ({head} AS id{sep}{tail}) "
        "WHERE id IS NOT NULL AND id NOT IN (SELECT post_id FROM responsedirty)"
    )


def _new_hours_only(mark: str) -> str:
    return (
        f"SELECT DISTINCT hour_start, hour_end FROM ({mark}) "
        "WHERE hour_start IS NOT NULL AND hour_start NOT IN (SELECT hour_start FROM hourdirty)"
    )


def _sqlite_triggers() -> list[str]:
    out = []
    for name, table, event, marks in MARKS:
        body = "".join(f"INSERT INTO responsedirty (post_id) {_new_only(m)};\n" for m in marks)
        if name == "post_del":  # a deleted post takes its summary row with it
            body += (
                "DELETE FROM responsedirty WHERE post_id = OLD.id;\nDELETE FROM responsefact WHERE post_id = OLD.id;\n"
            )
        out.append(f"CREATE TRIGGER kk_rf_{name} AFTER {event} ON {table} FOR EACH ROW BEGIN\n{body}END")
    for name, table, event, selects in _hour_marks(postgresql=False):
        body = "".join(f"INSERT INTO hourdirty (hour_start, hour_end) {_new_hours_only(m)};\n" for m in selects)
        out.append(f"CREATE TRIGGER kk_{name} AFTER {event} ON {table} FOR EACH ROW BEGIN\n{body}END")
    return out


def _postgresql_triggers() -> list[str]:
    out = []
    for name, table, event, marks in MARKS:
        body = "".join(f"INSERT INTO responsedirty (post_id) {m} ON CONFLICT DO NOTHING;\n" for m in marks)
        if (
            name == "post_del"
        ):  # responsedirty first: the lock order of the pass's refresh, so neither waits on the other
            body += (
                "DELETE FROM responsedirty WHERE post_id = OLD.id;\nDELETE FROM responsefact WHERE post_id = OLD.id;\n"
            )
        out.append(
            f"CREATE FUNCTION kk_rf_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}RETURN NULL;\nEND $$"
        )
        out.append(f"CREATE TRIGGER kk_rf_{name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION kk_rf_{name}()")
    for name, table, event, selects in _hour_marks(postgresql=True):
        body = "".join(f"INSERT INTO hourdirty (hour_start, hour_end) {m} ON CONFLICT DO NOTHING;\n" for m in selects)
        out.append(
            f"CREATE FUNCTION kk_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}RETURN NULL;\nEND $$"
        )
        out.append(f"CREATE TRIGGER kk_{name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION kk_{name}()")
    return out


def upgrade() -> None:
    op.create_table(
        "responsefact",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("ingested_at", UTC_DATETIME, nullable=False),
        sa.Column("deleted_at", UTC_DATETIME, nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=False),
        sa.Column("brand", sa.String(), nullable=True),
        sa.Column("brand_at", UTC_DATETIME, nullable=True),
        sa.Column("brand_n", sa.Integer(), nullable=False),
        sa.Column("draft_at", UTC_DATETIME, nullable=True),
        sa.Column("draft_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index("ix_responsefact_created_at", "responsefact", ["created_at"])
    op.create_table(
        "responsedirty", sa.Column("post_id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("post_id")
    )
    op.create_table(
        "summarystate",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("through", UTC_DATETIME, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "hourcount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour_start", UTC_DATETIME, nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hourcount_hour_start", "hourcount", ["hour_start"])
    op.create_table(
        "hourdirty",
        sa.Column("hour_start", UTC_DATETIME, nullable=False),
        sa.Column("hour_end", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("hour_start"),
    )
    op.create_index("ix_replydraft_state_post_id", "replydraft", ["state", "post_id"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _postgresql_triggers() if postgresql else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    names = [(f"rf_{name}", table) for name, table, _e, _m in MARKS] + [(f"hc_{n}", t) for n, t, _e, _m in HOUR_MARKS]
    for name, table in names:
        op.execute(f"DROP TRIGGER IF EXISTS kk_{name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS kk_{name}()")
    op.drop_index("ix_replydraft_state_post_id", table_name="replydraft")
    op.drop_table("hourdirty")
    op.drop_index("ix_hourcount_hour_start", table_name="hourcount")
    op.drop_table("hourcount")
    op.drop_table("summarystate")
    op.drop_table("responsedirty")
    op.drop_index("ix_responsefact_created_at", table_name="responsefact")
    op.drop_table("responsefact")
