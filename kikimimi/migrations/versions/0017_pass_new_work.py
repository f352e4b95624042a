"""A pass at a million posts reads only new work: posts not analysed, questions not placed, drafts not settled

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-01 22:00:00

`post.analysed` and `analysis.faq_checked` are set by the stage that did the work; a partial index holds only the
rows still unset, so the analysis stage and the FAQ placement find their work without walking every post.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration never changes when the models do.
ANALYSED = "EXISTS (SELECT 1 FROM analysis a WHERE a.post_id = post.id)"
FAQ_SEEN = (
    "is_question = :yes AND (EXISTS (SELECT 1 FROM faqembedding e WHERE e.post_id = analysis.post_id) "
    "OR EXISTS (SELECT 1 FROM faqmember m WHERE m.post_id = analysis.post_id) "
    "OR EXISTS (SELECT 1 FROM post p WHERE p.id = analysis.post_id "
    "AND (p.is_brand_reply = :yes OR p.deleted_at IS NOT NULL)))"
)


def upgrade() -> None:
    # plain ADD COLUMN on both databases: a constant default needs no copy of the table
    op.add_column("post", sa.Column("analysed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("analysis", sa.Column("faq_checked", sa.Boolean(), server_default=sa.false(), nullable=False))
    bind = op.get_bind()
    bind.execute(sa.text(f"UPDATE post SET analysed = :yes WHERE {ANALYSED}"), {"yes": True})
    bind.execute(sa.text(f"UPDATE analysis SET faq_checked = :yes WHERE {FAQ_SEEN}"), {"yes": True})
    op.create_index(
        "ix_post_not_analysed",
        "post",
        ["id"],
        sqlite_where=sa.text("analysed = 0"),
        postgresql_where=sa.text("analysed = false"),
    )
    op.create_index(
        "ix_analysis_faq_unchecked",
        "analysis",
        ["faq_checked", "is_question", "is_spam"],  # SQLite without statistics prefers it to is_question's index
        sqlite_where=sa.text("is_question = 1 AND is_spam = 0 AND faq_checked = 0"),
        postgresql_where=sa.text("is_question AND NOT is_spam AND NOT faq_checked"),
    )
    # PostgreSQL counts needs_reply and draft_checked apart and walked the priority index over every analysis
    op.create_index(
        "ix_analysis_draft_unchecked",
        "analysis",
        ["priority"],
        sqlite_where=sa.text("needs_reply = 1 AND draft_checked = 0"),
        postgresql_where=sa.text("needs_reply AND NOT draft_checked"),
    )


def downgrade() -> None:
    op.drop_index("ix_analysis_draft_unchecked", table_name="analysis")
    op.drop_index("ix_analysis_faq_unchecked", table_name="analysis")
    op.drop_index("ix_post_not_analysed", table_name="post")
    with op.batch_alter_table("analysis", schema=None) as batch_op:
        batch_op.drop_column("faq_checked")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("analysed")
