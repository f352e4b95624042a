"""A pass at a million posts: the alerts read only the posts still waiting, the dry run counts from indexes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 00:40:00

The alerts' unanswered read (`sla.unanswered`) walked every summarised post of the last 168 hours, tens of
thousands at a million posts, to keep the few thousand without an answer; a partial index holds only those.
The dry run's count of approved drafts looked up every one's post (a page each, ~18k); a partial index of the
posts no reply can go to lets it count from two narrow indexes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "brand_at IS NULL AND draft_at IS NULL AND deleted_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_responsefact_unanswered",
        "responsefact",
        ["created_at"],
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )
    op.create_index(
        "ix_post_unanswerable",
        "post",
        ["id"],
        sqlite_where=sa.text("replyable = 0 OR deleted_at IS NOT NULL"),
        postgresql_where=sa.text("NOT replyable OR deleted_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_post_unanswerable", table_name="post")
    op.drop_index("ix_responsefact_unanswered", table_name="responsefact")
