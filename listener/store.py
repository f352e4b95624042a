"""The one write path for posts: batched, idempotent upserts keyed by (platform, external_id).

`storable_post` is the last gate before the database: text and JSON made storable, counts clamped to their
columns, timestamps made aware and checked against `now`. `store_page` stores a page in a SAVEPOINT and,
when the database refuses the batch, one post at a time, each in its own SAVEPOINT, so one bad row costs
only itself: the caller quarantines it and the rest of the page is stored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from kikimimi.db import insert_for, retry_lost_races
from kikimimi.errors import MalformedPayload
from kikimimi.models import Author, AuthorCreate, Post, PostCreate, PostQuery
from kikimimi.text import as_count, short, storable_json, storable_text
from kikimimi.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)
_CHUNK = 400  # rows per INSERT statement (well under SQLite's bound-parameter limit)
EARLIEST_POST = datetime(2006, 3, 21, tzinfo=UTC)  # the first post on any platform we read (X's first tweet)
MAX_FUTURE = timedelta(days=1)  # clock skew allowed for a post's creation time beyond now


@dataclass
class UpsertResult:
    new: int = 0
    duplicates: int = 0
    new_post_ids: list[int] = field(default_factory=list)


def upsert_authors(session: Session, authors: Sequence[AuthorCreate]) -> dict[tuple[str, str], int]:
    """Insert new authors, refresh handle/name/followers of known ones; return ids by (platform, external_id).

    Rows go in key order, so two processes storing overlapping authors lock them in the same order (no deadlock);
    a deadlock or serialisation failure all the same (another writer's order) is rolled back and tried again.
    """
    latest: dict[tuple[str, str], AuthorCreate] = {(a.platform, a.external_id): a for a in authors}
    now = utcnow()
    rows = [{**latest[key].model_dump(), "first_seen": now, "last_seen": now} for key in sorted(latest)]
    if rows:
        stmt = insert_for(session, Author)
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
        # executemany: batched by SQLAlchemy, no per-size statement compilation
        retry_lost_races(session, lambda: session.execute(stmt, rows), what="storing authors")
    ids: dict[tuple[str, str], int] = {}
    for where in _by_key(col(Author.platform), col(Author.external_id), list(latest)):
        rows = session.exec(select(Author.id, Author.platform, Author.external_id).where(where))
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
    so concurrent workers cannot store a post twice either. Every post of the page, new or not, is linked to
    `query_id`: a post that several queries match belongs to each of them (`PostQuery`).
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
        for _, post in sorted(unique.items())  # key order, like the authors: racing writers cannot deadlock
    ]
    stmt = (
        insert_for(session, Post).on_conflict_do_nothing(index_elements=["platform", "external_id"]).returning(Post.id)
    )
    # RETURNING gives only the rows actually inserted
    result.new_post_ids.extend(
        retry_lost_races(session, lambda: list(session.scalars(stmt, rows)), what="storing posts")
    )
    result.new = len(result.new_post_ids)
    result.duplicates += len(unique) - result.new
    if query_id is not None:
        link_posts(session, list(unique), query_id)
    return result


def link_posts(session: Session, keys: list[tuple[str, str]], query_id: int) -> None:
    """Record that `query_id` matched the stored posts with these (platform, external_id) keys (idempotent)."""
    for where in _by_key(col(Post.platform), col(Post.external_id), keys):
        ids = session.exec(select(Post.id).where(where)).all()
        if ids:
            stmt = insert_for(session, PostQuery).on_conflict_do_nothing(index_elements=["post_id", "query_id"])
            session.execute(stmt, [{"post_id": post_id, "query_id": query_id} for post_id in ids])


def _by_key(platform: Any, external_id: Any, keys: list[tuple[str, str]]) -> Iterator[Any]:
    """Conditions that find these (platform, external_id) keys by the unique index: one platform and a chunk of ids
    each. SQLite walks the whole index for a row-value `IN` (every author, every post) instead of seeking each key."""
    by_platform: dict[str, list[str]] = defaultdict(list)
    for key_platform, key_id in keys:
        by_platform[key_platform].append(key_id)
    for key_platform, ids in sorted(by_platform.items()):
        for chunk in _chunks(sorted(set(ids))):
            yield (platform == key_platform) & external_id.in_(chunk)


def _chunks(items: list, size: int = _CHUNK) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def storable_post(post: PostCreate, *, now: datetime | None = None) -> PostCreate:
    """`post` as every database stores it, or MalformedPayload (absurd creation time, empty id).

    `now` is the collector's clock (default `utcnow()`): creation times before 2006 or more than a day after
    `now` are refused, so a post dated 1970 or 2999 never sorts to the top of a queue.
    """
    now = now or utcnow()
    external_id = storable_text(post.external_id).strip()
    if not external_id or external_id in ("None", "null"):
        raise MalformedPayload(f"{post.platform}: a post without an id")
    created_at = as_utc(post.created_at)
    if not EARLIEST_POST <= created_at <= now + MAX_FUTURE:
        raise MalformedPayload(f"{post.platform}: post {external_id} has an absurd creation time {created_at}")
    author = post.author
    author_id = storable_text(author.external_id).strip()
    if not author_id:
        raise MalformedPayload(f"{post.platform}: post {external_id} has an author without an id")

    def text(value: str | None) -> str | None:
        return None if value is None else storable_text(value)

    clean_author = author.model_copy(
        update={
            "platform": storable_text(author.platform),
            "external_id": author_id,
            "handle": storable_text(author.handle),
            "display_name": text(author.display_name),
            "followers_count": as_count(author.followers_count),
            "profile_url": text(author.profile_url),
        }
    )
    return post.model_copy(
        update={
            "platform": storable_text(post.platform),
            "external_id": external_id,
            "text": storable_text(post.text),
            "language": text(post.language),
            "url": text(post.url),
            "created_at": created_at,
            "thread_id": text(post.thread_id),
            "parent_external_id": text(post.parent_external_id),
            "visibility": storable_text(post.visibility),
            "replyable_reason": storable_text(post.replyable_reason),
            "raw": storable_json(post.raw) if isinstance(post.raw, dict) else {"value": storable_json(post.raw)},
            "author": clean_author,
        }
    )


@dataclass
class PageResult:
    """What `store_page` did: the counts, and the posts the database refused with why (index → error)."""

    new: int = 0
    duplicates: int = 0
    new_post_ids: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def begin_write(session: Session) -> None:
    """Open the session's transaction for writing now.

    SQLite (pysqlite) opens a transaction only before the first INSERT: a SAVEPOINT issued before that starts
    a transaction of its own, and releasing it commits the page early. BEGIN IMMEDIATE first makes the page,
    its savepoints and its cursor one transaction again, and takes the write lock under the busy timeout.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def store_page(
    session: Session,
    posts: Sequence[PostCreate],
    *,
    brand_id: int | None = None,
    query_id: int | None = None,
) -> PageResult:
    """Upsert `posts` in one SAVEPOINT; if the database refuses, retry each post in its own SAVEPOINT.

    The caller's transaction is never rolled back here: a refused post is reported in `refused` by its index.
    """
    result = PageResult()
    if not posts:
        return result
    begin_write(session)
    try:
        with session.begin_nested():
            batch = upsert_posts(session, posts, brand_id=brand_id, query_id=query_id)
        result.new, result.duplicates, result.new_post_ids = batch.new, batch.duplicates, batch.new_post_ids
        return result
    except (SQLAlchemyError, ValueError, OverflowError, TypeError) as exc:
        log.warning("the database refused a page (%s); storing its posts one at a time", short(exc, 200))
    seen: set[tuple[str, str]] = set()
    for index, post in enumerate(posts):
        if (post.platform, post.external_id) in seen:
            result.duplicates += 1
            continue
        try:
            with session.begin_nested():
                one = upsert_posts(session, [post], brand_id=brand_id, query_id=query_id)
        except (SQLAlchemyError, ValueError, OverflowError, TypeError) as exc:
            result.refused[index] = f"the database refused it: {type(exc).__name__}: {_db_error(exc)}"
            continue
        seen.add((post.platform, post.external_id))
        result.new += one.new
        result.duplicates += one.duplicates
        result.new_post_ids.extend(one.new_post_ids)
    return result


def _db_error(exc: BaseException) -> str:
    """The driver's own message (never the statement and its parameters, which may be megabytes)."""
    original = getattr(exc, "orig", None) or exc
    return short(original, 200)
