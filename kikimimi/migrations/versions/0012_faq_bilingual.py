"""FAQ answers in English and Japanese, who decided what and when, and what an answer did to open drafts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:40:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTOR_COLUMNS = ("status", "renamed", "answer_en", "answer_ja", "merged", "split")
# kana or kanji: an existing single answer written in Japanese becomes the Japanese answer
_JA = "[\u3040-\u30ff\u3400-\u9fff]"


def upgrade() -> None:
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer_en", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("answer_ja", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        for name in _ACTOR_COLUMNS:
            batch_op.add_column(sa.Column(f"{name}_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
            batch_op.add_column(sa.Column(f"{name}_at", sa.DateTime(timezone=True), nullable=True))
    faq = sa.table(
        "faqcluster",
        sa.column("id", sa.Integer),
        sa.column("answer", sa.String),
        sa.column("answer_en", sa.String),
        sa.column("answer_ja", sa.String),
    )
    bind = op.get_bind()
    for cid, answer in bind.execute(sa.select(faq.c.id, faq.c.answer).where(faq.c.answer.is_not(None))).all():
        column = "answer_ja" if re.search(_JA, answer) else "answer_en"
        bind.execute(sa.update(faq).where(faq.c.id == cid).values({column: answer}))
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        batch_op.drop_column("answer")
    op.create_table(
        "faqdraftnotice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["faqcluster.id"]),
        sa.ForeignKeyConstraint(["draft_id"], ["replydraft.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("faqdraftnotice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faqdraftnotice_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_faqdraftnotice_draft_id"), ["draft_id"], unique=False)


def downgrade() -> None:
    op.drop_table("faqdraftnotice")
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    faq = sa.table("faqcluster", sa.column("answer", sa.String), sa.column("answer_en", sa.String))
    op.execute(sa.update(faq).values(answer=faq.c.answer_en))
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        for name in reversed(_ACTOR_COLUMNS):
            batch_op.drop_column(f"{name}_at")
            batch_op.drop_column(f"{name}_by")
        batch_op.drop_column("answer_ja")
        batch_op.drop_column("answer_en")
