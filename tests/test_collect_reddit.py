"""The Reddit collector through praw/prawcore's real client, answered from recorded listings."""

from __future__ import annotations

import json
from datetime import datetime

import praw
import prawcore
import pytest

from kikimimi.settings import QueryConfig
from kikimimi.timeutil import utcnow
from listener.reddit import RedditCollector
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

TOKEN = "/api/v1/access_token"
SEARCH = "/r/tea+matcha/search"
COMMENTS = "/r/tea+matcha/comments"
HEADERS = {"x-ratelimit-remaining": "95", "x-ratelimit-used": "5", "x-ratelimit-reset": "300"}


def ok(name: str) -> Reply:
    return Reply(200, fixture("reddit", name), HEADERS)


@pytest.fixture
def prawcore_sleeps(monkeypatch) -> Sleeps:
    """prawcore's own retry and rate-limit sleeps, recorded instead of slept."""
    sleeps = Sleeps()
    monkeypatch.setattr(prawcore.sessions.time, "sleep", sleeps)
    monkeypatch.setattr(prawcore.rate_limit.time, "sleep", sleeps)
    return sleeps


def collector(server: RecordedServer, sleeps: Sleeps | None = None) -> RedditCollector:
    server.on("POST", TOKEN, fixture("reddit", "access_token.json"))
    reddit = praw.Reddit(
        client_id="<REDDIT_CLIENT_ID>",
        client_secret="<REDDIT_CLIENT_SECRET>",
        user_agent="kikimimi-tests/0.1",
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"session": server.session()},
    )
    return RedditCollector(reddit, ACCOUNTS, sleep=sleeps if sleeps is not None else Sleeps())


def _seed(session) -> None:
    server = RecordedServer().on("GET", SEARCH, ok("search_first.json")).on("GET", COMMENTS, ok("comments_first.json"))
    run = poll(session, collector(server))
    assert (run.status, run.new_posts, run.requests) == ("ok", 2, 2)
    search = server.calls_to(SEARCH)[0].params
    assert (search["sort"], search["syntax"], search["restrict_sr"]) == ("new", "lucene", "1")
    assert search["q"] == '("komorebi tea" OR "木漏れ日ティー" OR komorebitea OR "u/komorebiteaco") NOT hiring'


def test_poll_pages_with_after_and_stops_at_what_the_last_poll_stored(session, prawcore_sleeps):
    _seed(session)
    server = (
        RecordedServer()
        .on("GET", SEARCH, ok("search_page1.json"), ok("search_page2.json"))
        .on("GET", COMMENTS, ok("comments_again.json"))
    )
    run = poll(session, collector(server))
    searches = server.calls_to(SEARCH)
    assert "after" not in searches[0].params and searches[1].params["after"] == "t3_1h3a00"
    # the comment page reached the comment stored last time: no request for the page after it
    assert len(server.calls_to(COMMENTS)) == 1
    assert (run.requests, run.new_posts, run.errors, run.status) == (3, 5, 1, "partial")
    posts = stored(session, "reddit")
    assert {"t3_1h3b00", "t3_1h3a80", "t3_1h3a00", "t3_1h3900", "t1_lz1200"} <= set(posts)
    assert "t1_lz1100" not in posts  # does not mention the brand
    assert "t1_lz1050" not in posts  # excluded term "hiring"
    windows = json.loads(cursor_of(session, "reddit").position)
    assert windows["search"]["high"] == "t3_1h3b00" and windows["comments"]["high"] == "t1_lz1200"
    assert server.unused() == []


def test_locked_and_archived_threads_are_not_replyable(session, prawcore_sleeps):
    _seed(session)
    server = (
        RecordedServer()
        .on("GET", SEARCH, ok("search_page1.json"), ok("search_page2.json"))
        .on("GET", COMMENTS, ok("listing_empty.json"))
    )
    poll(session, collector(server))
    posts = stored(session, "reddit")
    assert posts["t3_1h3b00"].replyable and posts["t3_1h3b00"].text.startswith("Komorebi Tea order never arrived")
    assert (posts["t3_1h3a00"].replyable, posts["t3_1h3a00"].replyable_reason) == (False, "the thread is locked")
    assert (posts["t3_1h3a80"].replyable, posts["t3_1h3a80"].replyable_reason) == (False, "the thread is archived")
    assert posts["t3_1h3900"].is_brand_reply is False and not posts["t3_1h3900"].replyable  # the brand's own post
    assert posts["t3_1h3b00"].url == "https://www.reddit.com/r/tea/comments/1h3b00/komorebi_tea_order_never_arriv/"


def test_a_429_records_the_reset_and_the_next_poll_skips(session, prawcore_sleeps):
    _seed(session)
    limited = Reply(
        429,
        fixture("reddit", "too_many_requests.json"),
        {**HEADERS, "x-ratelimit-remaining": "0", "x-ratelimit-reset": "420"},
    )
    server = RecordedServer().on("GET", SEARCH, limited)
    before = utcnow()
    run = poll(session, collector(server))
    assert run.status == "rate_limited"
    until = datetime.fromisoformat(cursor_of(session, "reddit").state["rate_limited_until"])
    assert 410 <= (until - before).total_seconds() <= 430
    assert poll(session, collector(server)).status == "rate_limited" and len(server.calls_to(SEARCH)) == 1


def test_503s_are_retried_by_prawcore_then_by_us_then_recorded_as_a_failure(session, prawcore_sleeps):
    _seed(session)
    unavailable = Reply(503, fixture("reddit", "service_unavailable.json"))
    server = (
        RecordedServer()
        .on("GET", SEARCH, unavailable, unavailable, unavailable, ok("listing_empty.json"))
        .on("GET", COMMENTS, ok("listing_empty.json"))
    )
    sleeps = Sleeps()
    assert poll(session, collector(server, sleeps)).status == "ok"
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 30
    server = RecordedServer().on("GET", SEARCH, *[unavailable] * 6)
    run = poll(session, collector(server))
    assert run.status == "failed" and "503" in run.error_message and len(server.calls_to(SEARCH)) == 6


def test_an_empty_listing_and_a_japanese_query(session, prawcore_sleeps):
    query = QueryConfig(name="ja", keywords=["木漏れ日ティー"], subreddits=["JapanTravel"], mention_handles=False)
    server = (
        RecordedServer()
        .on("GET", "/r/JapanTravel/search", ok("search_japanese.json"))
        .on("GET", "/r/JapanTravel/comments", ok("listing_empty.json"))
    )
    run = poll(session, collector(server), query)
    assert server.calls_to("/r/JapanTravel/search")[0].params["q"] == '"木漏れ日ティー"'
    assert (run.status, run.new_posts) == ("ok", 1)
    assert (
        stored(session, "reddit")["t3_1h4000"].text
        == "京都の木漏れ日ティー本店に行ってきました\n\n抹茶パフェが最高でした。次は玉露を買いたい！"
    )


def test_crash_between_fetch_and_save_then_restart(session, prawcore_sleeps, monkeypatch):
    _seed(session)
    restart = die_on_save(monkeypatch, page=2)
    server = RecordedServer().on("GET", SEARCH, ok("search_page1.json"), ok("search_page2.json"))
    with pytest.raises(Crash):
        poll(session, collector(server))
    session.rollback()
    restart()
    server = RecordedServer().on("GET", SEARCH, ok("search_page2.json")).on("GET", COMMENTS, ok("listing_empty.json"))
    run = poll(session, collector(server))
    assert server.calls_to(SEARCH)[0].params["after"] == "t3_1h3a00"
    assert (run.new_posts, run.duplicates) == (1, 0)
    assert len(stored(session, "reddit")) == 2 + 4
    assert json.loads(cursor_of(session, "reddit").position)["search"]["high"] == "t3_1h3b00"


def test_a_submission_indexed_late_by_reddit_search_is_still_found(session, prawcore_sleeps):
    _seed(session)
    server = (
        RecordedServer()
        .on("GET", SEARCH, ok("search_page1.json"), ok("search_page2.json"), ok("search_lagged.json"))
        .on("GET", COMMENTS, ok("listing_empty.json"), ok("listing_empty.json"))
    )
    poll(session, collector(server))
    # t3_1h3aff has a lower id than t3_1h3b00 (stored last poll) but reached the index only now
    run = poll(session, collector(server))
    assert (run.new_posts, run.duplicates) == (2, 1)  # t3_1h3c00 and the late one; t3_1h3b00 re-read
    assert {"t3_1h3c00", "t3_1h3aff"} <= set(stored(session, "reddit"))
    assert len(server.calls_to(SEARCH)) == 3  # the overlap cost no extra request
    assert json.loads(cursor_of(session, "reddit").position)["search"]["high"] == "t3_1h3c00"
