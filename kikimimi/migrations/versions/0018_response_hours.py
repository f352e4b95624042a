"""The service-levels page and the jump check at a million posts: first responses summarised per UTC hour

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 00:30:00

`responsehour` holds, per UTC hour, platform, language and promptness, the posts that needed a reply, how many were
answered and every first-response time (exactly: the doubles' bytes), so a local day's median, the per-platform
table and the staffing hours are read from hours instead of from every post again;
`responsehourdirty` lists the hours whose rows may be out of date. A pass marks the hours of the posts 0015's
triggers marked dirty; the triggers here mark the hour a post leaves (deleted, or its time changed), which 0015's
marks cannot name once the post is gone or moved. The rows are filled by the pipeline pass (and `kikimimi db
rebuild-summaries`); until then every figure is computed live, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
# (trigger name, event, a condition on the row or "")
TRIGGERS = [
    ("kk_rh_post_del", "AFTER DELETE ON post FOR EACH ROW", ""),
    (
        "kk_rh_post_moved",
        "AFTER UPDATE OF created_at ON post FOR EACH ROW",
        "OLD.created_at IS DISTINCT FROM NEW.created_at",
    ),
]


def upgrade() -> None:
    op.create_table(
        "responsehour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour_start", UTC_DATETIME, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("prompt", sa.Boolean(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_responsehour_hour_start", "responsehour", ["hour_start"])
    op.create_table(
        "responsehourdirty",
        sa.Column("hour_start", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("hour_start"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, event, condition in TRIGGERS:
        if postgresql:
            hour = "date_trunc('hour', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
                f"INSERT INTO responsehourdirty (hour_start) VALUES ({hour}) ON CONFLICT DO NOTHING;\n"
                "RETURN NULL;\nEND $$"
            )
            when = f" WHEN ({condition})" if condition else ""
            op.execute(f"CREATE TRIGGER {name} {event}{when} EXECUTE FUNCTION {name}()")
            continue
        # SQLite applies the firing statement's conflict policy to a trigger's statements: skip marked hours instead
        hour = "strftime('%Y-%m-%d %H:00:00.000000', OLD.created_at)"
        when = " WHEN " + condition.replace("IS DISTINCT FROM", "IS NOT") if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} {event}{when} BEGIN\n"
            f"INSERT INTO responsehourdirty (hour_start) SELECT h FROM (SELECT {hour} AS h) "
            "WHERE h IS NOT NULL AND h NOT IN (SELECT hour_start FROM responsehourdirty);\nEND"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, _event, _condition in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON post" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("responsehourdirty")
    op.drop_index("ix_responsehour_hour_start", table_name="responsehour")
    op.drop_table("responsehour")
