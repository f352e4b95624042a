"""The Mastodon collector through Mastodon.py's real client, answered from recorded API responses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest
from mastodon import Mastodon

from kikimimi.platforms.mastodon import MASTODON_VERSION
from kikimimi.settings import QueryConfig
from kikimimi.timeutil import utcnow
from listener.mastodon import MastodonCollector
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

TAG = "/api/v1/timelines/tag/komorebitea"
SEARCH = "/api/v2/search"
MENTIONS = "/api/v1/notifications"
HEADERS = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "290", "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"}


def ok(name: str) -> Reply:
    return Reply(200, fixture("mastodon", name), HEADERS)


def collector(server: RecordedServer, sleeps: Sleeps | None = None, page_size: int = 2) -> MastodonCollector:
    # Mastodon.py asks the instance once whether hashtag timelines are public before reading one
    server.on("GET", "/api/v2/instance/", ok("instance_v2.json"))
    client = Mastodon(
        api_base_url="https://mastodon.social",
        access_token="<MASTODON_ACCESS_TOKEN>",
        session=server.session(),
        ratelimit_method="throw",
        version_check_mode="none",
        mastodon_version=MASTODON_VERSION,
    )
    return MastodonCollector(client, ACCOUNTS, sleep=sleeps if sleeps is not None else Sleeps(), page_size=page_size)


def _seed(session) -> None:
    server = (
        RecordedServer()
        .on("GET", TAG, ok("tag_first.json"))
        .on("GET", SEARCH, ok("search_empty.json"), ok("search_empty.json"))
        .on("GET", MENTIONS, ok("empty.json"))
    )
    run = poll(session, collector(server))
    assert (run.status, run.new_posts, run.requests) == ("ok", 1, 4)
    assert [c.params.get("q") for c in server.calls_to(SEARCH)] == ["komorebi tea", "木漏れ日ティー"]
    assert server.calls_to(MENTIONS)[0].params["types[]"] == "mention"
    assert not any("min_id" in c.params for c in server.calls)


def test_poll_pages_forward_with_min_id_and_the_cursor_moves_per_page(session):
    _seed(session)
    server = (
        RecordedServer()
        .on("GET", TAG, ok("tag_page1.json"), ok("tag_page2.json"))
        .on("GET", SEARCH, ok("search_empty.json"), ok("search_empty.json"))
        .on("GET", MENTIONS, ok("mentions.json"))
    )
    run = poll(session, collector(server))
    tags = server.calls_to(TAG)
    assert tags[0].params["min_id"] == "113500000000000100" and tags[1].params["min_id"] == "113500000000000102"
    assert (run.new_posts, run.errors, run.status) == (2, 1, "partial")  # "hiring" filtered; one malformed
    posts = stored(session, "mastodon")
    assert posts["113500000000000102"].text == "木漏れ日ティーの新作、香りがすごく良い🍵\nリピします！"
    assert "113500000000000101" not in posts
    positions = json.loads(cursor_of(session, "mastodon").position)
    assert positions["tag:komorebitea"] == "113500000000000103" and positions["mentions"] == "45001"
    assert server.unused() == []


def test_a_direct_message_stays_private_and_brand_replies_are_recognised(session):
    _seed(session)
    server = (
        RecordedServer()
        .on("GET", TAG, ok("empty.json"))
        .on("GET", SEARCH, ok("search_brand_reply.json"), ok("search_empty.json"))
        .on("GET", MENTIONS, ok("mentions.json"))
    )
    poll(session, collector(server))
    posts = stored(session, "mastodon")
    dm = posts["113500000000000200"]
    assert (dm.visibility, dm.replyable, dm.replyable_reason) == ("private", True, "direct message: answer privately")
    brand = posts["113500000000000400"]
    assert brand.is_brand_reply and brand.parent_external_id == "113500000000000100" and not brand.replyable


def test_a_429_records_the_reset_from_the_header(session):
    _seed(session)
    reset = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    headers = {
        **HEADERS,
        "Date": format_datetime(utcnow(), usegmt=True),  # the server's clock; Mastodon.py corrects for it
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
    }
    server = RecordedServer().on("GET", TAG, Reply(429, fixture("mastodon", "too_many_requests.json"), headers))
    run = poll(session, collector(server))
    assert run.status == "rate_limited"
    until = datetime.fromisoformat(cursor_of(session, "mastodon").state["rate_limited_until"])
    assert abs((until - reset).total_seconds()) <= 2


def test_503_is_retried_then_recorded(session):
    _seed(session)
    unavailable = Reply(503, fixture("mastodon", "unavailable.json"))
    server = (
        RecordedServer()
        .on("GET", TAG, unavailable, ok("empty.json"))
        .on("GET", SEARCH, ok("search_empty.json"), ok("search_empty.json"))
        .on("GET", MENTIONS, ok("empty.json"))
    )
    sleeps = Sleeps()
    assert poll(session, collector(server, sleeps)).status == "ok" and len(sleeps) == 1
    server = RecordedServer().on("GET", TAG, *[unavailable] * 4)
    run = poll(session, collector(server))
    assert run.status == "failed" and len(server.calls_to(TAG)) == 4


def test_japanese_search(session):
    query = QueryConfig(name="ja", keywords=["木漏れ日ティー"], languages=["ja"], mention_handles=False)
    server = RecordedServer().on("GET", SEARCH, ok("search_ja.json"))
    run = poll(session, collector(server), query)
    params = server.calls[0].params
    assert (params["q"], params["type"], params["limit"]) == ("木漏れ日ティー", "statuses", "2")
    assert "resolve" not in params  # no WebFinger lookups: plain search
    assert run.new_posts == 1
    assert (
        stored(session, "mastodon")["113500000000000300"].text == '木漏れ日ティーの"玉露"、淹れ方のコツはありますか？'
    )


def test_crash_between_fetch_and_save_then_restart(session, monkeypatch):
    _seed(session)
    restart = die_on_save(monkeypatch, page=2)
    server = RecordedServer().on("GET", TAG, ok("tag_page1.json"), ok("tag_page2.json"))
    with pytest.raises(Crash):
        poll(session, collector(server))
    session.rollback()
    restart()
    server = (
        RecordedServer()
        .on("GET", TAG, ok("tag_page2.json"))
        .on("GET", SEARCH, ok("search_empty.json"), ok("search_empty.json"))
        .on("GET", MENTIONS, ok("empty.json"))
    )
    run = poll(session, collector(server))
    assert server.calls_to(TAG)[0].params["min_id"] == "113500000000000102"  # after page 1, which was saved
    assert (run.new_posts, run.duplicates, run.errors) == (0, 0, 1)  # page 2 holds only the malformed status
    assert set(stored(session, "mastodon")) == {"113500000000000100", "113500000000000102"}
