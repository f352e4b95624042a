"""A pass at a million posts reads by key: what it stores and counts is found through an index, never by walking a
table that grows with every post (checked on SQLite's own query plans, with the answers the pass gives)."""

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select, update

from kikimimi.models import Author, AuthorCreate, DraftState, Post, ReplyDraft
from kikimimi.timeutil import utcnow
from listener.store import upsert_posts
from responder.posting import post_approved
from tests.conftest import make_post


@contextmanager
def selects(session, marker: str):
    """The SELECT statements (with their parameters) sent while inside, that mention `marker`."""
    sent: list = []
    engine = session.get_bind()

    def keep(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().startswith("SELECT") and marker in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan(session, statement: str, parameters) -> str:
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return " | ".join(str(r[-1]) for r in rows)


def test_stored_authors_are_found_by_their_key_on_each_platform(session):
    same_id = [
        make_post("1", platform="x", author=AuthorCreate(platform="x", external_id="u1", handle="x_mika")),
        make_post("1", platform="mastodon", author=AuthorCreate(platform="mastodon", external_id="u1", handle="m_mi")),
    ]
    with selects(session, "FROM author") as sent:
        assert upsert_posts(session, same_id).new == 2
    session.commit()
    handles = dict(session.exec(select(Post.platform, Author.handle).join(Author, Author.id == Post.author_id)).all())
    assert handles == {"x": "x_mika", "mastodon": "m_mi"}  # one author id per platform, each post its own
    assert sent, "the authors' ids were not read back"
    for statement, parameters in sent:
        shown = plan(session, statement, parameters)
        assert "SEARCH author USING COVERING INDEX sqlite_autoindex_author_1 (platform=? AND external_id=?)" in shown
        assert "SCAN author" not in shown


def test_the_dry_run_counts_approved_drafts_from_indexes(session):
    unreplyable = make_post("3", replyable=False, replyable_reason="no mention")
    stored = upsert_posts(session, [make_post("1"), make_post("2"), unreplyable, make_post("4")])
    ids = stored.new_post_ids
    session.exec(update(Post).where(Post.id == ids[3]).values(deleted_at=utcnow() - timedelta(hours=1)))
    for post_id in ids:
        session.add(ReplyDraft(post_id=post_id, text="thanks!", state=DraftState.approved, version=1))
    session.commit()
    with selects(session, "count(") as sent:
        report = post_approved(session, {}, live=False)
    assert report.would_post_total == 2  # neither the post no reply can go to, nor the deleted one
    assert len(report.would_post) == 2 and len(report.skipped) == 2
    [(statement, parameters)] = [(s, p) for s, p in sent if "FROM replydraft" in s and "replyable" in s]
    shown = plan(session, statement, parameters)
    assert "ix_replydraft_state_post_id (state=?)" in shown and "ix_post_unanswerable" in shown
    assert "INTEGER PRIMARY KEY" not in shown  # no approved draft's post row looked up
