"""Sign-in (password hash, locale, time zone, throttling) on user; one audit table; post.not_spam; postgram

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditevent_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_outcome"), ["outcome"], unique=False)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_spam", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "postgram",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("gram", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("post_id", "gram"),
    )
    with op.batch_alter_table("postgram", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postgram_gram"), ["gram"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("postgram", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postgram_gram"))
    op.drop_table("postgram")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("not_spam")
    with op.batch_alter_table("user", schema=None) as batch_op:
        for column in ("signed_out_at", "locked_until", "failed_attempts", "active", "time_zone", "locale"):
            batch_op.drop_column(column)
        batch_op.drop_column("password_hash")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        for column in ("outcome", "action", "actor", "at"):
            batch_op.drop_index(batch_op.f(f"ix_auditevent_{column}"))
    op.drop_table("auditevent")
