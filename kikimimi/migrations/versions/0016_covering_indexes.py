"""The trends page's period scans from indexes alone: covering indexes on post and analysis

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:45:00

Every trends figure (posts per day, share of voice, the languages seen, the spikes' posts) reads the customer posts
of a period: a range of `post.created_at` and, per post, its analysis. With the columns those statements test in
the indexes themselves, SQLite reads the period from two narrow indexes instead of fetching every wide post row
(text and raw payload) and analysis row. `ix_post_created_at_platform` is the new post index's prefix and goes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_post_created_at_platform_customer", "post", ["created_at", "platform", "is_brand_reply", "deleted_at"]
    )
    op.drop_index("ix_post_created_at_platform", table_name="post")
    op.create_index(
        "ix_analysis_post_id_spam_language_sentiment", "analysis", ["post_id", "is_spam", "language", "sentiment"]
    )


def downgrade() -> None:
    op.drop_index("ix_analysis_post_id_spam_language_sentiment", table_name="analysis")
    op.create_index("ix_post_created_at_platform", "post", ["created_at", "platform"])
    op.drop_index("ix_post_created_at_platform_customer", table_name="post")
