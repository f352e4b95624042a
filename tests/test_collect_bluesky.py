"""The Bluesky collector through atproto's real client, answered from recorded searchPosts pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import atproto
import httpx
import pytest
from atproto_client.request import Request

from kikimimi.settings import QueryConfig
from kikimimi.timeutil import utcnow
from listener.bluesky import BlueskyCollector
from tests.collect_support import (
    ACCOUNTS,
    Crash,
    RecordedServer,
    Reply,
    Sleeps,
    cursor_of,
    die_on_save,
    fixture,
    poll,
    stored,
)

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
TERMS = ["komorebi tea", "木漏れ日ティー", "#komorebitea", "@komorebitea.bsky.social"]


def collector(server: RecordedServer, sleeps: Sleeps | None = None, logins: list | None = None) -> BlueskyCollector:
    client = atproto.Client(base_url="https://bsky.social/xrpc", request=Request(transport=server.httpx_transport()))
    login = (lambda: logins.append(1)) if logins is not None else None
    return BlueskyCollector(client, ACCOUNTS, login=login, sleep=sleeps if sleeps is not None else Sleeps())


def empty() -> dict:
    return fixture("bluesky", "search_empty.json")


def _seed(session) -> None:
    """First poll: one request per term; it sets `since` for each term's later polls."""
    server = RecordedServer().on("GET", SEARCH, fixture("bluesky", "search_first.json"), empty(), empty(), empty())
    logins: list = []
    run = poll(session, collector(server, logins=logins))
    assert (run.status, run.new_posts, run.requests, len(logins)) == ("ok", 1, 5, 1)  # 4 searches + the login
    assert [c.params["q"] for c in server.calls] == TERMS
    assert server.calls[3].params["mentions"] == "komorebitea.bsky.social"
    assert all(c.params["sort"] == "latest" and "lang" not in c.params for c in server.calls)


def test_poll_pages_with_cursor_filters_and_resumes_from_since(session):
    _seed(session)
    server = RecordedServer().on(
        "GET",
        SEARCH,
        fixture("bluesky", "search_page1.json"),
        fixture("bluesky", "search_page2.json"),
        empty(),
        empty(),
        empty(),
    )
    run = poll(session, collector(server))
    first, second = server.calls[0].params, server.calls[1].params
    assert first["since"] == second["since"] == "2026-11-20T07:55:00Z"  # 5 minutes of overlap
    assert "cursor" not in first and second["cursor"] == "3"
    posts = stored(session, "bluesky")
    yuki = posts["at://did:plc:yuki7q2xk4m3n5p6r8s9t0ab/app.bsky.feed.post/3lbq5ccccccc2"]
    assert yuki.text.endswith("記念日用だったのに😢") and yuki.language == "ja" and yuki.replyable
    assert yuki.url == "https://bsky.app/profile/yuki.bsky.social/post/3lbq5ccccccc2"
    assert not any("lena" in uri or "3lbq5aaaaaaa2" in uri for uri in posts)  # German, and "hiring": filtered out
    assert (run.requests, run.items_seen, run.new_posts, run.errors, run.status) == (5, 3, 2, 1, "partial")
    run = poll(session, collector(RecordedServer().on("GET", SEARCH, empty(), empty(), empty(), empty())))
    assert run.new_posts == 0
    windows = json.loads(cursor_of(session, "bluesky").position)
    assert windows["komorebi tea"]["high"] == "2026-11-21T10:05:00Z"


def test_a_post_found_by_two_terms_is_stored_once_and_brand_replies_keep_their_thread(session):
    _seed(session)
    mention = fixture("bluesky", "search_mention.json")
    reply = fixture("bluesky", "search_brand_reply.json")
    server = RecordedServer().on("GET", SEARCH, mention, reply, empty(), mention)
    run = poll(session, collector(server))
    assert (run.new_posts, run.duplicates) == (2, 1)
    posts = stored(session, "bluesky")
    brand = posts["at://did:plc:komorebitea000000000001/app.bsky.feed.post/3lbq5eeeeeee2"]
    assert brand.is_brand_reply and not brand.replyable
    assert (
        brand.thread_id
        == brand.parent_external_id
        == ("at://did:plc:yuki7q2xk4m3n5p6r8s9t0ab/app.bsky.feed.post/3lbq5ccccccc2")
    )


def test_a_429_records_ratelimit_reset(session):
    _seed(session)
    reset = int((utcnow() + timedelta(minutes=5)).timestamp())
    limited = Reply(
        429, fixture("bluesky", "rate_limited.json"), {"ratelimit-reset": str(reset), "ratelimit-remaining": "0"}
    )
    server = RecordedServer().on("GET", SEARCH, limited)
    run = poll(session, collector(server))
    assert run.status == "rate_limited"
    assert cursor_of(session, "bluesky").state["rate_limited_until"] == datetime.fromtimestamp(reset, UTC).isoformat()


def test_503_and_timeout_are_retried_with_back_off(session):
    _seed(session)
    server = RecordedServer().on(
        "GET",
        SEARCH,
        Reply(503, fixture("bluesky", "unavailable.json")),
        Reply(error=httpx.ReadTimeout("timed out")),
        empty(),
        empty(),
        empty(),
        empty(),
    )
    sleeps = Sleeps()
    assert poll(session, collector(server, sleeps)).status == "ok"
    assert len(sleeps) == 2 and all(0 <= s <= 30 for s in sleeps)
    server = RecordedServer().on("GET", SEARCH, *[Reply(503, fixture("bluesky", "unavailable.json"))] * 4)
    run = poll(session, collector(server))
    assert run.status == "failed" and "503" in run.error_message


def test_japanese_query_asks_for_japanese_posts(session):
    query = QueryConfig(name="ja", keywords=["木漏れ日ティー"], languages=["ja"], mention_handles=False)
    server = RecordedServer().on("GET", SEARCH, fixture("bluesky", "search_page1.json"))
    run = poll(session, collector(server), query)
    assert server.calls[0].params == {"q": "木漏れ日ティー", "sort": "latest", "lang": "ja", "limit": "100"}
    assert run.new_posts == 1  # the German post is dropped; "hiring" is not excluded by this query, but English is


def test_crash_between_fetch_and_save_then_restart(session, monkeypatch):
    _seed(session)
    restart = die_on_save(monkeypatch, page=2)
    server = RecordedServer().on(
        "GET", SEARCH, fixture("bluesky", "search_page1.json"), fixture("bluesky", "search_page2.json")
    )
    with pytest.raises(Crash):
        poll(session, collector(server))
    session.rollback()
    restart()
    server = RecordedServer().on("GET", SEARCH, fixture("bluesky", "search_page2.json"), empty(), empty(), empty())
    run = poll(session, collector(server))
    assert server.calls[0].params["cursor"] == "3" and server.calls[0].params["since"] == "2026-11-20T07:55:00Z"
    assert (run.new_posts, run.duplicates) == (1, 0)
    assert len(stored(session, "bluesky")) == 3  # the seed, page 1 (two of three filtered out), page 2
