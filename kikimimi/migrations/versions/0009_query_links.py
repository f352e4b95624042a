"""Post–query links (a post belongs to every query that matched it), competitor queries, and the indexes the
trends and service-level pages group and join by

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN: rebuilding the table (SQLite's batch mode) would trip the posts' foreign keys
    op.add_column("listeningquery", sa.Column("competitor", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "postquery",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.ForeignKeyConstraint(["query_id"], ["listeningquery.id"]),
        sa.PrimaryKeyConstraint("post_id", "query_id"),
    )
    op.create_index(op.f("ix_postquery_query_id"), "postquery", ["query_id"], unique=False)
    # every post stored so far belongs to the query that stored it
    op.execute("INSERT INTO postquery (post_id, query_id) SELECT id, query_id FROM post WHERE query_id IS NOT NULL")
    op.create_index("ix_post_created_at_platform", "post", ["created_at", "platform"], unique=False)
    op.create_index("ix_post_author_id_created_at", "post", ["author_id", "created_at"], unique=False)
    op.create_index("ix_post_platform_parent_external_id", "post", ["platform", "parent_external_id"], unique=False)
    op.create_index("ix_replydraft_post_id_state", "replydraft", ["post_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_replydraft_post_id_state", table_name="replydraft")
    op.drop_index("ix_post_platform_parent_external_id", table_name="post")
    op.drop_index("ix_post_author_id_created_at", table_name="post")
    op.drop_index("ix_post_created_at_platform", table_name="post")
    op.drop_index(op.f("ix_postquery_query_id"), table_name="postquery")
    op.drop_table("postquery")
    with op.batch_alter_table("listeningquery", schema=None) as batch_op:
        batch_op.drop_column("competitor")
