"""FAQ: lead decisions survive re-grouping (pinned, renamed, merged_into_id); stored question embeddings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("renamed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_faqcluster_merged_into", "faqcluster", ["merged_into_id"], ["id"])
    op.create_table(
        "faqembedding",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("post_id"),
    )
    with op.batch_alter_table("faqembedding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faqembedding_model_version"), ["model_version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faqembedding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faqembedding_model_version"))
    op.drop_table("faqembedding")
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        batch_op.drop_constraint("fk_faqcluster_merged_into", type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("renamed")
        batch_op.drop_column("pinned")
