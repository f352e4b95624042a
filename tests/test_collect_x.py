"""The X collector through tweepy's real client and Paginator, answered from recorded v2 search pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import tweepy

from kikimimi.models import Author
from kikimimi.settings import QueryConfig
from kikimimi.timeutil import utcnow
from listener.x import XCollector
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

SEARCH = "/2/tweets/search/recent"


def collector(server: RecordedServer, sleeps: Sleeps | None = None) -> XCollector:
    client = tweepy.Client(bearer_token="<X_BEARER_TOKEN>", return_type=dict)
    client.session = server.session()
    return XCollector(client, ACCOUNTS, sleep=sleeps if sleeps is not None else Sleeps())


def _seed(session) -> None:
    """A first poll: one page, which sets since_id for the polls after it."""
    server = RecordedServer().on("GET", SEARCH, fixture("x", "search_first.json"))
    run = poll(session, collector(server))
    assert run.status == "ok" and run.new_posts == 1
    assert "next_token" not in server.calls[0].params and "since_id" not in server.calls[0].params


def test_poll_pages_with_next_token_and_next_poll_asks_only_for_newer(session):
    _seed(session)
    server = RecordedServer().on(
        "GET",
        SEARCH,
        fixture("x", "search_page1.json"),
        fixture("x", "search_page2.json"),
        fixture("x", "search_empty.json"),
    )
    run = poll(session, collector(server))
    first, second = server.calls[0].params, server.calls[1].params
    assert first["since_id"] == second["since_id"] == "1861000000000000100"
    assert second["next_token"] == "b26v89c19zqg8o3fpzhk"
    assert "author_id" in first["expansions"] and "public_metrics" in first["user.fields"]
    assert (run.requests, run.items_seen, run.new_posts, run.errors, run.status) == (2, 5, 4, 1, "partial")
    posts = stored(session, "x")
    assert set(posts) == {
        "1861000000000000100",
        "1861000000000000205",
        "1861000000000000204",
        "1861000000000000203",
        "1861000000000000202",
    }
    # the next poll starts after the newest tweet of this one, not after the last page read
    run = poll(session, collector(server))
    assert server.calls[2].params["since_id"] == "1861000000000000205"
    assert (run.requests, run.items_seen, run.new_posts, run.status) == (1, 0, 0, "ok")
    assert server.unused() == []


def test_replyable_only_when_the_brand_is_mentioned_or_quoted_and_authors_are_kept(session):
    _seed(session)
    server = RecordedServer().on("GET", SEARCH, fixture("x", "search_page1.json"), fixture("x", "search_page2.json"))
    poll(session, collector(server))
    posts = stored(session, "x")
    mention, japanese, quote = (posts[i] for i in ("1861000000000000205", "1861000000000000204", "1861000000000000203"))
    assert mention.replyable and "mentioned" in mention.replyable_reason
    assert quote.replyable and "quoted" in quote.replyable_reason
    assert not japanese.replyable and "by hand" in japanese.replyable_reason
    assert japanese.text == "木漏れ日ティーの抹茶ラテ、甘さ控えめで最高でした🍵 リピ確定" and japanese.language == "ja"

    aiko = session.get(Author, mention.author_id)
    assert (aiko.handle, aiko.display_name, aiko.followers_count) == ("aiko_tea_time", "Aiko", 312)


def test_backfill_reads_every_page_and_stores_nothing_twice(session):
    _seed(session)
    server = RecordedServer().on("GET", SEARCH, fixture("x", "search_page1.json"), fixture("x", "search_page2.json"))
    poll(session, collector(server))
    before = cursor_of(session, "x").position
    server = RecordedServer().on("GET", SEARCH, fixture("x", "search_page1.json"), fixture("x", "search_page2.json"))
    run = poll(session, collector(server), backfill=True)
    assert "since_id" not in server.calls[0].params
    assert (run.mode, run.new_posts, run.duplicates) == ("backfill", 0, 4)
    assert len(stored(session, "x")) == 5
    assert cursor_of(session, "x").position == before  # backfill does not move the polling cursor


def test_a_long_rate_limit_is_recorded_and_the_next_poll_waits_for_the_reset(session):
    _seed(session)
    reset = int((utcnow() + timedelta(minutes=14)).timestamp())
    limited = Reply(
        429, fixture("x", "too_many_requests.json"), {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}
    )
    server = RecordedServer().on("GET", SEARCH, limited)
    sleeps = Sleeps()
    run = poll(session, collector(server, sleeps))
    assert run.status == "rate_limited" and sleeps == []
    until = datetime.fromisoformat(cursor_of(session, "x").state["rate_limited_until"])
    assert until == datetime.fromtimestamp(reset, UTC)
    run = poll(session, collector(server))  # before the reset: no request at all
    assert run.status == "rate_limited" and len(server.calls) == 1 and run.requests == 0


def test_a_short_rate_limit_is_waited_out(session):
    _seed(session)
    reset = int((utcnow() + timedelta(seconds=20)).timestamp())
    server = RecordedServer().on(
        "GET",
        SEARCH,
        Reply(429, fixture("x", "too_many_requests.json"), {"x-rate-limit-reset": str(reset)}),
        fixture("x", "search_empty.json"),
    )
    sleeps = Sleeps()
    run = poll(session, collector(server, sleeps))
    assert run.status == "ok" and len(sleeps) == 1 and 10 < sleeps[0] <= 22


def test_503_and_timeouts_back_off_with_capped_jitter_then_give_up(session):
    _seed(session)
    unavailable = Reply(503, fixture("x", "service_unavailable.json"))
    server = RecordedServer().on(
        "GET",
        SEARCH,
        unavailable,
        Reply(error=requests.ReadTimeout("read timed out")),
        fixture("x", "search_empty.json"),
    )
    sleeps = Sleeps()
    run = poll(session, collector(server, sleeps))
    assert (run.status, run.requests) == ("ok", 3)  # the retries are counted as requests made
    assert len(sleeps) == 2 and all(0 <= s <= 30 for s in sleeps)
    server = RecordedServer().on("GET", SEARCH, *[unavailable] * 4)
    run = poll(session, collector(server, Sleeps()))
    assert run.status == "failed" and "503" in run.error_message and len(server.calls) == 4


def test_japanese_query_compiles_to_x_operators(session):
    query = QueryConfig(name="ja", keywords=["木漏れ日ティー"], languages=["ja"], mention_handles=False)
    server = RecordedServer().on("GET", SEARCH, fixture("x", "search_again.json"))
    run = poll(session, collector(server), query)
    assert server.calls[0].params["query"] == '"木漏れ日ティー" lang:ja -is:retweet'
    assert run.new_posts == 2
    assert stored(session, "x")["1861000000000000300"].text == "@komorebi_tea 玉露の淹れ方を教えてください？"


def test_crash_between_fetch_and_save_then_restart_loses_and_duplicates_nothing(session, monkeypatch):
    _seed(session)
    restart = die_on_save(monkeypatch, page=2)
    server = RecordedServer().on("GET", SEARCH, fixture("x", "search_page1.json"), fixture("x", "search_page2.json"))
    with pytest.raises(Crash):
        poll(session, collector(server))
    session.rollback()
    assert len(stored(session, "x")) == 4  # the seed and page 1
    restart()
    # restart: resume below page 1 (until_id), still above the old since_id
    server = RecordedServer().on("GET", SEARCH, fixture("x", "search_page2.json"))
    run = poll(session, collector(server))
    params = server.calls[0].params
    assert (params["since_id"], params["until_id"]) == ("1861000000000000100", "1861000000000000203")
    assert run.new_posts == 1 and run.duplicates == 0
    assert len(stored(session, "x")) == 5
    window = json.loads(cursor_of(session, "x").position)["search"]
    assert (window["high"], window["newest"], window["resume"]) == ("1861000000000000205", None, None)
