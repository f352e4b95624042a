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

from sqlalchemy import Select, delete, func, insert
from sqlmodel import Session, col, select

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
    """(Re)index these posts, or every post not indexed yet; commits; returns how many were indexed."""
    if post_ids is None:
        indexed = select(PostGram.post_id).distinct()
        ids = [i for i in session.exec(select(Post.id).where(col(Post.id).not_in(indexed))) if i is not None]
    else:
        ids = list(post_ids)
        session.execute(delete(PostGram).where(col(PostGram.post_id).in_(ids)))
    for start in range(0, len(ids), _BATCH):
        rows = session.exec(select(Post.id, Post.text).where(col(Post.id).in_(ids[start : start + _BATCH]))).all()
        values = [{"post_id": pid, "gram": gram} for pid, text in rows for gram in sorted(bigrams(text or ""))]
        if values:
            session.execute(insert(PostGram), values)
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
