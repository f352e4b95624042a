"""Dashboard and drafting at a million posts: drafting reads only new work, and the indexes the pages need

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration never changes when the models do.
SETTLED = sa.text(
    "needs_reply = :yes AND (EXISTS (SELECT 1 FROM replydraft d WHERE d.post_id = analysis.post_id) "
    "OR EXISTS (SELECT 1 FROM post p JOIN post r ON r.platform = p.platform AND r.parent_external_id = "
    "p.external_id AND r.is_brand_reply = :yes WHERE p.id = analysis.post_id))"
)


def upgrade() -> None:
    with op.batch_alter_table("analysis", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_checked", sa.Boolean(), server_default=sa.false(), nullable=False))
    # what drafting has already settled (a draft or the brand's reply) is not new work for its next pass
    op.get_bind().execute(sa.text("UPDATE analysis SET draft_checked = :yes WHERE " + SETTLED.text), {"yes": True})
    op.create_index("ix_analysis_needs_reply_draft_checked", "analysis", ["needs_reply", "draft_checked"])
    # deleted_at is NULL for nearly every post: index only the deleted ones (SQLite walked the full index otherwise)
    op.drop_index("ix_post_deleted_at", table_name="post")
    op.create_index(
        "ix_post_deleted_at_set",
        "post",
        ["deleted_at"],
        sqlite_where=sa.text("deleted_at IS NOT NULL"),
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )
    op.create_index("ix_post_platform_created_at", "post", ["platform", "created_at"])
    # a post's replies oldest first: its first answer is the index's first entry (the old index is its prefix)
    op.create_index(
        "ix_post_platform_parent_external_id_created_at", "post", ["platform", "parent_external_id", "created_at"]
    )
    op.drop_index("ix_post_platform_parent_external_id", table_name="post")


def downgrade() -> None:
    op.create_index("ix_post_platform_parent_external_id", "post", ["platform", "parent_external_id"])
    op.drop_index("ix_post_platform_parent_external_id_created_at", table_name="post")
    op.drop_index("ix_post_platform_created_at", table_name="post")
    op.drop_index("ix_post_deleted_at_set", table_name="post")
    op.create_index("ix_post_deleted_at", "post", ["deleted_at"])
    op.drop_index("ix_analysis_needs_reply_draft_checked", table_name="analysis")
    with op.batch_alter_table("analysis", schema=None) as batch_op:
        batch_op.drop_column("draft_checked")
