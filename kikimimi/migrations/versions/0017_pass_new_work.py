"""A pass at a million posts reads only new work: posts not analysed, questions not placed, drafts not settled

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 22:00:00

`post.analysed` and `analysis.faq_checked` are set by the stage that did the work; a partial index holds only the
rows still unset, so the analysis stage and the FAQ placement find their work without walking every post.
Drafting's unsettled analyses get a partial index in priority order; 0015's author trigger fires only when a
handle or platform really changes (an upsert of an unchanged author walked all of its posts).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
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

# 0015's trigger that marks the posts a brand account answered when its handle changes: it fired on every upsert
# of an author (each collected page), handle changed or not, and walked all of that author's posts each time
AUTHOR_TRIGGER = "kk_rf_author_upd"
AUTHOR_EVENT = "AFTER UPDATE OF handle, platform ON author FOR EACH ROW"
AUTHOR_BODY = (
    "INSERT INTO responsedirty (post_id) SELECT DISTINCT id FROM (SELECT p.id AS id FROM post r JOIN post p ON "
    "p.platform = r.platform AND p.external_id = r.parent_external_id WHERE r.author_id = NEW.id AND "
    "r.is_brand_reply) WHERE id IS NOT NULL AND id NOT IN (SELECT post_id FROM responsedirty);"
)


def _author_trigger(changed_only: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        when = " WHEN (OLD.handle IS DISTINCT FROM NEW.handle OR OLD.platform IS DISTINCT FROM NEW.platform)"
        op.execute(f"DROP TRIGGER {AUTHOR_TRIGGER} ON author")
        op.execute(
            f"CREATE TRIGGER {AUTHOR_TRIGGER} {AUTHOR_EVENT}{when if changed_only else ''} "
            f"EXECUTE FUNCTION {AUTHOR_TRIGGER}()"
        )
        return
    when = " WHEN OLD.handle IS NOT NEW.handle OR OLD.platform IS NOT NEW.platform"
    op.execute(f"DROP TRIGGER {AUTHOR_TRIGGER}")
    op.execute(f"CREATE TRIGGER {AUTHOR_TRIGGER} {AUTHOR_EVENT}{when if changed_only else ''} BEGIN {AUTHOR_BODY} END")


def upgrade() -> None:
    _author_trigger(changed_only=True)
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
    _author_trigger(changed_only=False)
    op.drop_index("ix_analysis_draft_unchecked", table_name="analysis")
    op.drop_index("ix_analysis_faq_unchecked", table_name="analysis")
    op.drop_index("ix_post_not_analysed", table_name="post")
    # plain DROP COLUMN (SQLite 3.35+): a batch copy of `post` trips over 0015's triggers that name it
    op.drop_column("analysis", "faq_checked")
    op.drop_column("post", "analysed")
