"""PostgreSQL: statistics on how an analysis' flags go together, so a pass's new-work queries plan for the few
rows they find

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 00:50:00

The pass finds its work through partial indexes (`is_question AND NOT is_spam AND NOT faq_checked`, `needs_reply
AND NOT draft_checked`, 0017). PostgreSQL multiplies each flag's own frequency: every analysis that is not a
question is also unchecked, so it guessed a fifth of all analyses (164k at a million posts) for the few hundred
of a pass, and hashed all of `faqembedding` and `faqmember` to anti-join them (0.4-0.7 s a statement, growing with
the table). Extended statistics (most common combinations) give it the real count: an index probe per row.
SQLite plans from its indexes and needs none.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = {
    "st_analysis_faq_work": ("is_question", "is_spam", "faq_checked"),
    "st_analysis_draft_work": ("needs_reply", "draft_checked"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in STATISTICS.items():
        op.execute(f"CREATE STATISTICS {name} (mcv, dependencies) ON {', '.join(columns)} FROM analysis")
    op.execute("ANALYZE analysis")  # a sample of rows: seconds at a million; until then the old guesses stand


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
