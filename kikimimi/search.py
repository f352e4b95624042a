"""Full-text search that works for Japanese on SQLite and PostgreSQL alike: a character-bigram index table.

PostgreSQL has no Japanese text-search parser and SQLite's trigram tokenizer cannot match two-character words
such as 送料, so every post's text is cut into overlapping two-character grams (after NFKC and case folding, so
ｿｳﾘｮｳ and full-width letters match their usual forms) and stored in `PostGram`. A query term matches a post that
has all of the term's grams; an ASCII term is also checked as a substring, since English words share grams
more often. A one-character term falls back to a substring match.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import Select, delete, false, func, update
from sqlmodel import Session, col, select

from kikimimi.db import insert_for
from kikimimi.models import Post, PostGram

_BATCH = 500


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def bigrams(text: str) -> set[str]:
    """The distinct two-character grams of `text` that hold no whitespace."""
    folded = normalise(text)
    return {folded[i : i + 2] for i in range(len(folded) - 1) if not any(c.isspace() for c in folded[i : i + 2])}


def terms(query: str) -> list[str]:
    """The words of a query (split on whitespace, normalised)."""
    return [t for t in normalise(query).split() if t]


def index_posts(session: Session, post_ids: Iterable[int] | None = None) -> int:
    """(Re)index these posts, or every post not indexed yet; commits; returns how many were indexed.

    Posts not indexed yet are found through `Post.grams_indexed` (a partial index holds just them), so a pass
    costs what was collected since the last one, not the size of the table."""
    if post_ids is None:
        ids = list(session.exec(select(Post.id).where(col(Post.grams_indexed) == false()).order_by(col(Post.id))))
    else:
        ids = list(post_ids)
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        if post_ids is not None:
            session.execute(delete(PostGram).where(col(PostGram.post_id).in_(chunk)))
        rows = session.exec(select(Post.id, Post.text).where(col(Post.id).in_(chunk))).all()
        values = [{"post_id": pid, "gram": gram} for pid, text in rows for gram in sorted(bigrams(text or ""))]
        if values:
            # another process indexing the same new posts at the same moment wrote the same grams: keep theirs
            session.execute(insert_for(session, PostGram).on_conflict_do_nothing(), values)
        session.execute(update(Post).where(col(Post.id).in_(chunk)).values(grams_indexed=True))
    session.commit()
    return len(ids)


def matching(stmt: Select, query: str) -> Select:
    """`stmt` (a select that joins Post) narrowed to posts that contain every term of `query`."""
    for term in terms(query):
        grams = sorted(bigrams(term))
        if not grams:  # a single character
            stmt = stmt.where(func.lower(col(Post.text)).contains(term, autoescape=True))
            continue
        having_all = (
            select(PostGram.post_id)
            .where(col(PostGram.gram).in_(grams))
            .group_by(col(PostGram.post_id))
            .having(func.count(func.distinct(col(PostGram.gram))) == len(grams))
        )
        stmt = stmt.where(col(Post.id).in_(having_all))
        if term.isascii():
            stmt = stmt.where(func.lower(col(Post.text)).contains(term, autoescape=True))
    return stmt


def search_post_ids(session: Session, query: str) -> list[int]:
    """Ids of the posts that contain every term of `query` (indexing any post not indexed yet)."""
    index_posts(session)
    return [i for i in session.exec(matching(select(Post.id), query).order_by(col(Post.id))) if i is not None]
