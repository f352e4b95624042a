"""Hostile inputs (Hypothesis) through every normaliser and the store, on SQLite and PostgreSQL.

Each example is a real payload shape with some fields replaced by hostile values (NUL, lone surrogates, huge
and negative ints, NaN and infinities, wrong types, deep nesting, missing ids). The properties: a normaliser
raises nothing but MalformedPayload; whatever storable_post accepts, the store keeps and reads back.
`pytest tests/test_collect_hostile.py -s` prints how many inputs were tried, per database.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from kikimimi.db import get_engine, migrate
from kikimimi.errors import MalformedPayload
from kikimimi.models import Author, Post
from listener import bluesky, mastodon, reddit, x
from listener.store import storable_post, store_page
from tests.collect_support import ACCOUNTS
from tests.postgres_server import required_postgres

NOW = datetime(2026, 11, 22, tzinfo=UTC)
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "100"))  # per platform and database (CI: 100, ~8 s)
TALLY: Counter[str] = Counter()

TEMPLATES: dict[str, tuple[Any, dict[str, Any]]] = {
    "x": (
        x.normalise_tweet,
        {
            "tweet": {
                "id": "1861000000000000205",
                "text": "@komorebi_tea where is my order?",
                "author_id": "42",
                "created_at": "2026-11-21T10:05:00.000Z",
                "lang": "en",
                "conversation_id": "1861000000000000205",
                "referenced_tweets": [{"type": "replied_to", "id": "1"}],
                "entities": {"mentions": [{"username": "komorebi_tea"}]},
            },
            "author": {"id": "42", "username": "mika", "name": "Mika", "public_metrics": {"followers_count": 3}},
        },
    ),
    "reddit": (
        reddit.normalise_thing,
        {
            "kind": "comment",
            "data": {
                "id": "abc",
                "name": "t1_abc",
                "body": "where is my order?",
                "link_id": "t3_x",
                "parent_id": "t3_x",
                "created_utc": 1795000000.0,
                "author": "mika",
                "author_fullname": "t2_m",
                "permalink": "/r/tea/comments/x/abc/",
            },
        },
    ),
    "bluesky": (
        bluesky.normalise_post_view,
        {
            "uri": "at://did:plc:a/app.bsky.feed.post/3k",
            "record": {"text": "where is my order?", "createdAt": "2026-11-21T10:05:00Z", "langs": ["en"]},
            "author": {"did": "did:plc:a", "handle": "mika.bsky.social", "displayName": "Mika", "followersCount": 9},
            "indexedAt": "2026-11-21T10:05:01Z",
        },
    ),
    "mastodon": (
        mastodon.normalise_status,
        {
            "id": "111",
            "content": "<p>where is my order?</p>",
            "created_at": "2026-11-21T10:05:00.000Z",
            "visibility": "public",
            "language": "en",
            "url": "https://mastodon.social/@mika/111",
            "in_reply_to_id": None,
            "account": {
                "id": "7",
                "acct": "mika",
                "display_name": "Mika",
                "followers_count": 5,
                "url": "https://m.s/@m",
            },
        },
    ),
}

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "\ufeff", "\u202e", "<", "]", "(", "🍵", "a"])),
    st.just("None"),
    st.just(""),
    st.binary(max_size=20),
)
POISON = st.sampled_from(["\x00", "\ud800", "\udc00", "\udfff", "\ufffe", "\u202e", "\x1b", "🍵", "<", "]"])
hostile_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
hostile_leaf = st.one_of(st.none(), hostile_text, hostile_number)
hostile_value = st.recursive(
    hostile_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
hostile_time = st.one_of(
    st.sampled_from(["1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "0001-01-01", "9999-12-31T23:59:59", "yesterday"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in [(*prefix, k), *_paths(v, (*prefix, k))]]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in [(*prefix, i), *_paths(v, (*prefix, i))]]
    return []


@st.composite
def hostile_payload(draw: st.DrawFn, platform: str) -> Any:
    """The platform's payload with 1-4 fields replaced (or removed), or something that is no payload at all."""
    template = TEMPLATES[platform][1]
    if draw(st.integers(0, 19)) == 0:
        return draw(hostile_value)
    payload = copy.deepcopy(template)
    paths = _paths(template)
    if draw(st.booleans()):  # keep the shape, poison the strings: every text field gains hostile characters
        for path in paths:
            parent = payload
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent[path[-1]], str) and not str(path[-1]).startswith(("created", "indexed")):
                parent[path[-1]] += draw(st.text(alphabet=POISON, max_size=6))
    for path in draw(st.lists(st.sampled_from(paths), min_size=0, max_size=4)):
        parent = payload
        try:
            for key in path[:-1]:
                parent = parent[key]
            is_time = path[-1] in ("created_at", "createdAt", "created_utc", "indexedAt")
            if isinstance(parent, dict) and draw(st.integers(0, 5)) == 0:
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(hostile_time if is_time else hostile_value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this field's parent
    return payload


def check_one(session: Session, platform: str, payload: Any, db: str) -> None:
    """One hostile payload: count it, and fail on an uncaught error or an accepted post the store lost."""
    normalise = TEMPLATES[platform][0]
    TALLY[f"{db}:tried"] += 1
    try:
        post = storable_post(normalise(payload, ACCOUNTS), now=NOW)
    except MalformedPayload:
        TALLY[f"{db}:refused as malformed"] += 1
        return
    except Exception as exc:  # the property: nothing else escapes
        TALLY[f"{db}:uncaught"] += 1
        raise AssertionError(f"{platform}: {type(exc).__name__}: {exc}") from exc
    result = store_page(session, [post])
    session.commit()
    found = session.exec(select(Post).where(Post.platform == platform, Post.external_id == post.external_id)).first()
    if result.refused or found is None:
        TALLY[f"{db}:accepted then lost"] += 1
        raise AssertionError(f"{platform}: accepted then lost: {result.refused}")
    session.refresh(found)
    if result.new:
        assert found.text == post.text and found.raw == post.raw
        author = session.get(Author, found.author_id)
        assert author is not None and author.followers_count == post.author.followers_count
    TALLY[f"{db}:stored"] += 1


@pytest.fixture(scope="module")
def pg_url():  # type: ignore[no-untyped-def]
    with required_postgres() as url:
        migrate(url)
        yield url


@pytest.fixture(scope="module", autouse=True)
def report():  # type: ignore[no-untyped-def]
    yield
    for db in ("sqlite", "postgresql"):
        if TALLY[f"{db}:tried"]:
            print(
                f"\nhostile inputs on {db}: {TALLY[f'{db}:tried']} tried, {TALLY[f'{db}:uncaught']} uncaught,"
                f" {TALLY[f'{db}:accepted then lost']} accepted then lost"
                f" ({TALLY[f'{db}:stored']} stored, {TALLY[f'{db}:refused as malformed']} refused as malformed)"
            )


PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)


@pytest.mark.parametrize("platform", list(TEMPLATES))
def test_hostile_payloads_on_sqlite(session, platform):
    @PROPERTY
    @given(payload=hostile_payload(platform))
    def check(payload: Any) -> None:
        check_one(session, platform, payload, "sqlite")

    check()


@pytest.mark.integration
@pytest.mark.parametrize("platform", list(TEMPLATES))
def test_hostile_payloads_on_postgresql(pg_url, platform):
    with Session(get_engine(pg_url), expire_on_commit=False) as session:

        @PROPERTY
        @given(payload=hostile_payload(platform))
        def check(payload: Any) -> None:
            check_one(session, platform, payload, "postgresql")

        check()


def test_the_template_payloads_themselves_are_stored(session):
    """The properties above would pass vacuously if every template were refused."""
    for platform, (normalise, template) in TEMPLATES.items():
        post = storable_post(normalise(copy.deepcopy(template), ACCOUNTS), now=NOW)
        assert store_page(session, [post]).new == 1, platform
