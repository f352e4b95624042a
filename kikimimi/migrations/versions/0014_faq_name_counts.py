"""FAQ clusters remember which named services their members ask about, so placement keeps PayPal from PayPay

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")  # jsonb on PostgreSQL, as 0008 made every JSON column

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: not counted yet; the next placement or re-grouping counts a cluster's members once
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_counts", JSON_TYPE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("faqcluster", schema=None) as batch_op:
        batch_op.drop_column("name_counts")
