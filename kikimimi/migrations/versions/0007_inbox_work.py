"""Inbox work: assignment, soft edit locks, internal notes, analysis corrections; indexes for the queue's queries

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assignment",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("assignee", _TEXT(length=255), nullable=False),
        sa.Column("assigned_by", _TEXT(length=255), nullable=False),
        sa.Column("assigned_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index(op.f("ix_assignment_assignee"), "assignment", ["assignee"], unique=False)
    op.create_table(
        "editlock",
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("holder", _TEXT(length=255), nullable=False),
        sa.Column("since", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["replydraft.id"]),
        sa.PrimaryKeyConstraint("draft_id"),
    )
    op.create_index(op.f("ix_editlock_holder"), "editlock", ["holder"], unique=False)
    op.create_table(
        "postnote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("author", _TEXT(length=255), nullable=False),
        sa.Column("text", _TEXT(), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_postnote_post_id"), "postnote", ["post_id"], unique=False)
    op.create_table(
        "analysiscorrection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("field", _TEXT(length=16), nullable=False),
        sa.Column("old_value", _TEXT(), nullable=True),
        sa.Column("new_value", _TEXT(length=32), nullable=False),
        sa.Column("corrected_by", _TEXT(length=255), nullable=False),
        sa.Column("corrected_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_analysiscorrection_post_id"), "analysiscorrection", ["post_id"], unique=False)
    op.create_index(op.f("ix_author_display_name"), "author", ["display_name"], unique=False)
    op.create_index(op.f("ix_analysis_priority"), "analysis", ["priority"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_analysis_priority"), table_name="analysis")
    op.drop_index(op.f("ix_author_display_name"), table_name="author")
    for table, column in (
        ("analysiscorrection", "post_id"),
        ("postnote", "post_id"),
        ("editlock", "holder"),
        ("assignment", "assignee"),
    ):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_table(table)
