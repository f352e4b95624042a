"""Pages at a million posts: the trends period and the FAQ list read from indexes alone

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:45:00

Every trends figure (posts per day, share of voice, the spikes' posts) reads the customer posts of a period: a range
of `post.created_at` and, per post, its analysis. With the columns those statements test in the indexes themselves,
SQLite reads the period from two narrow indexes instead of fetching every post row and analysis row.
`ix_post_created_at_platform` is the new post index's prefix and goes.

The FAQ list counts every member of every cluster: its post's time, platform and deletion and its analysis's
language and sentiment. `faqmember` keeps copies of those (`post_*`), written by triggers whenever a member is
added or its post or analysis changes (bulk statements included), and one index holds them all: the list reads
that index instead of looking up a post and an analysis per member (3.5 s at a million posts).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
COPIES = ("post_created_at", "post_platform", "post_deleted_at", "post_language", "post_mood")
# in the list's GROUP BY order (cluster, platform, language): SQLite groups it as it reads, without a sort
COUNTS_INDEX = ["cluster_id", "post_platform", "post_language", "post_created_at", "post_mood", "post_deleted_at"]


def _mood(scores: str, postgresql: bool) -> str:
    """positive - negative of a `sentiment_scores` value, as the FAQ list averaged it before (a float)."""
    if postgresql:
        return f"CAST(({scores} ->> 'positive') AS FLOAT) - CAST(({scores} ->> 'negative') AS FLOAT)"
    positive, negative = (f"CAST(JSON_EXTRACT({scores}, '$.\"{k}\"') AS FLOAT)" for k in ("positive", "negative"))
    return f"{positive} - {negative}"


def _fill(member: str, postgresql: bool) -> str:
    """Every copy of the members whose post id is `member` (an expression), looked up now."""
    return (
        "UPDATE faqmember SET "
        "post_created_at = (SELECT p.created_at FROM post p WHERE p.id = faqmember.post_id), "
        "post_platform = (SELECT p.platform FROM post p WHERE p.id = faqmember.post_id), "
        "post_deleted_at = (SELECT p.deleted_at FROM post p WHERE p.id = faqmember.post_id), "
        "post_language = (SELECT a.language FROM analysis a WHERE a.post_id = faqmember.post_id), "
        f"post_mood = (SELECT {_mood('a.sentiment_scores', postgresql)} FROM analysis a "
        "WHERE a.post_id = faqmember.post_id)" + (f" WHERE faqmember.post_id = {member}" if member else "")
    )


def _triggers(postgresql: bool) -> list[tuple[str, str, str, list[str]]]:
    """(name, table, event, statements) keeping the copies right."""
    post = "UPDATE faqmember SET post_created_at = NEW.created_at, post_platform = NEW.platform, "
    post += "post_deleted_at = NEW.deleted_at WHERE post_id = NEW.id"
    analysis = "UPDATE faqmember SET post_language = NEW.language, "
    analysis += f"post_mood = {_mood('NEW.sentiment_scores', postgresql)} WHERE post_id = NEW.post_id"
    unanalysed = "UPDATE faqmember SET post_language = NULL, post_mood = NULL WHERE post_id = OLD.post_id"
    return [
        ("fm_member_ins", "faqmember", "INSERT", [_fill("NEW.post_id", postgresql)]),
        ("fm_member_upd", "faqmember", "UPDATE OF post_id", [_fill("NEW.post_id", postgresql)]),
        ("fm_post_upd", "post", "UPDATE OF created_at, platform, deleted_at", [post]),
        ("fm_post_del", "post", "DELETE", ["UPDATE faqmember SET post_created_at = NULL WHERE post_id = OLD.id"]),
        ("fm_analysis_ins", "analysis", "INSERT", [analysis]),
        ("fm_analysis_upd", "analysis", "UPDATE OF post_id, language, sentiment_scores", [unanalysed, analysis]),
        ("fm_analysis_del", "analysis", "DELETE", [unanalysed]),
    ]


def upgrade() -> None:
    op.create_index(
        "ix_post_created_at_platform_customer", "post", ["created_at", "platform", "is_brand_reply", "deleted_at"]
    )
    op.drop_index("ix_post_created_at_platform", table_name="post")
    op.create_index(
        "ix_analysis_post_id_spam_language_sentiment", "analysis", ["post_id", "is_spam", "language", "sentiment"]
    )
    op.add_column("faqmember", sa.Column("post_created_at", UTC_DATETIME, nullable=True))
    op.add_column("faqmember", sa.Column("post_platform", sa.String(length=16), nullable=True))
    op.add_column("faqmember", sa.Column("post_deleted_at", UTC_DATETIME, nullable=True))
    op.add_column("faqmember", sa.Column("post_language", sa.String(length=8), nullable=True))
    op.add_column("faqmember", sa.Column("post_mood", sa.Float(), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(_fill("", postgresql))
    op.create_index("ix_faqmember_cluster_counts", "faqmember", COUNTS_INDEX)
    for name, table, event, statements in _triggers(postgresql):
        if postgresql:
            body = "".join(f"{s};\n" for s in statements)
            op.execute(
                f"CREATE FUNCTION kk_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}RETURN NULL;\nEND $$"
            )
            op.execute(f"CREATE TRIGGER kk_{name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION kk_{name}()")
        else:
            body = "".join(f"{s};\n" for s in statements)
            op.execute(f"CREATE TRIGGER kk_{name} AFTER {event} ON {table} FOR EACH ROW BEGIN\n{body}END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, _event, _statements in _triggers(postgresql):
        op.execute(f"DROP TRIGGER IF EXISTS kk_{name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS kk_{name}()")
    op.drop_index("ix_faqmember_cluster_counts", table_name="faqmember")
    with op.batch_alter_table("faqmember") as batch_op:
        for name in reversed(COPIES):
            batch_op.drop_column(name)
    op.drop_index("ix_analysis_post_id_spam_language_sentiment", table_name="analysis")
    op.create_index("ix_post_created_at_platform", "post", ["created_at", "platform"])
    op.drop_index("ix_post_created_at_platform_customer", table_name="post")
