"""The one write path for posts: batched, idempotent upserts keyed by (platform, external_id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from kikimimi.models import Author, AuthorCreate, Post, PostCreate
from kikimimi.timeutil import utcnow

_CHUNK = 400  # rows per INSERT statement (well under SQLite's bound-parameter limit)


@dataclass
class UpsertResult:
    new: int = 0
    duplicates: int = 0
    new_post_ids: list[int] = field(default_factory=list)


def _insert(session: Session, model: type):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"unsupported database dialect: {dialect}")


def upsert_authors(session: Session, authors: Sequence[AuthorCreate]) -> dict[tuple[str, str], int]:
    """Insert new authors, refresh handle/name/followers of known ones; return ids by (platform, external_id)."""
    latest: dict[tuple[str, str], AuthorCreate] = {(a.platform, a.external_id): a for a in authors}
    now = utcnow()
    rows = [{**a.model_dump(), "first_seen": now, "last_seen": now} for a in latest.values()]
    if rows:
        stmt = _insert(session, Author)
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "external_id"],
            set_={
                "handle": stmt.excluded.handle,
                "display_name": stmt.excluded.display_name,
                "followers_count": stmt.excluded.followers_count,
                "profile_url": stmt.excluded.profile_url,
                "is_brand": stmt.excluded.is_brand,
                "last_seen": stmt.excluded.last_seen,
            },
        )
        session.execute(stmt, rows)  # executemany: batched by SQLAlchemy, no per-size statement compilation
    ids: dict[tuple[str, str], int] = {}
    for chunk in _chunks(list(latest)):
        rows = session.exec(
            select(Author.id, Author.platform, Author.external_id).where(
                tuple_(Author.platform, Author.external_id).in_(chunk)
            )
        )
        ids.update({(platform, ext): author_id for author_id, platform, ext in rows})
    return ids


def upsert_posts(
    session: Session,
    posts: Sequence[PostCreate],
    *,
    brand_id: int | None = None,
    query_id: int | None = None,
) -> UpsertResult:
    """Store posts not seen before (and their authors); a post already stored is counted as a duplicate.

    Polling twice is harmless: the unique (platform, external_id) constraint decides, inside the database,
    so concurrent workers cannot store a post twice either.
    """
    unique: dict[tuple[str, str], PostCreate] = {}
    for post in posts:
        unique.setdefault((post.platform, post.external_id), post)
    result = UpsertResult(duplicates=len(posts) - len(unique))
    if not unique:
        return result
    author_ids = upsert_authors(session, [p.author for p in unique.values()])
    now = utcnow()
    rows = [
        {
            **post.model_dump(exclude={"author"}),
            "author_id": author_ids[(post.author.platform, post.author.external_id)],
            "brand_id": brand_id,
            "query_id": query_id,
            "ingested_at": now,
        }
        for post in unique.values()
    ]
    stmt = _insert(session, Post).on_conflict_do_nothing(index_elements=["platform", "external_id"]).returning(Post.id)
    result.new_post_ids.extend(session.scalars(stmt, rows))  # RETURNING gives only the rows actually inserted
    result.new = len(result.new_post_ids)
    result.duplicates += len(unique) - result.new
    return result


def _chunks(items: list, size: int = _CHUNK) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
