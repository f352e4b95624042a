"""Posting exactly once: leases on `posting`, unknown outcomes, replies sent by hand; the posting pause switch

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DRAFT_COLUMNS = (
    ("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=128)),
    ("lease_expires_at", sa.DateTime(timezone=True)),
    ("heartbeat_at", sa.DateTime(timezone=True)),
    ("send_started_at", sa.DateTime(timezone=True)),
    ("unknown_since", sa.DateTime(timezone=True)),
    ("hand_replied_by", sqlmodel.sql.sqltypes.AutoString()),
    ("hand_replied_at", sa.DateTime(timezone=True)),
    ("hand_reply_url", sqlmodel.sql.sqltypes.AutoString()),
)


def upgrade() -> None:
    op.create_table(
        "flag",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "flagevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flagevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flagevent_name"), ["name"], unique=False)
    # Drafts left in `posting` by older code have no lease owner: they count as expired leases whose platform
    # call may have happened, so the next run sends them to `unknown` (a lookup first), never straight back.
    with op.batch_alter_table("replydraft", schema=None) as batch_op:
        for name, type_ in DRAFT_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replydraft", schema=None) as batch_op:
        for name, _ in reversed(DRAFT_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("flagevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flagevent_name"))
    op.drop_table("flagevent")
    op.drop_table("flag")
