"""Platform details: Reddit's comment stream overlaps the same second (no same-second comment missed), Bluesky
fetches follower counts in batches of 25, and Mastodon's stored `raw` is the server's own JSON."""

from __future__ import annotations

import atproto
import praw
from atproto_client.request import Request
from mastodon import Mastodon
from sqlmodel import select

from kikimimi.models import Author
from kikimimi.platforms.mastodon import MASTODON_VERSION
from listener.bluesky import BlueskyCollector
from listener.mastodon import MastodonCollector
from listener.reddit import RedditCollector
from tests.collect_support import ACCOUNTS, RecordedServer, Reply, Sleeps, fixture, poll, stored

# --- Reddit: the comment stream -----------------------------------------------------------------------

T = 1763600100.0
COMMENTS = "/r/tea+matcha/comments"
SEARCH = "/r/tea+matcha/search"


def comment(ident: str, created: float) -> dict:
    return {
        "kind": "t1",
        "data": {
            "id": ident,
            "name": f"t1_{ident}",
            "body": "komorebi tea is lovely",
            "author": f"user_{ident}",
            "created_utc": created,
            "link_id": "t3_1gzzzz",
            "parent_id": "t3_1gzzzz",
            "permalink": f"/r/tea/comments/1gzzzz/x/{ident}/",
        },
    }


def listing(*children: dict, after: str | None = None) -> dict:
    return {"kind": "Listing", "data": {"children": list(children), "after": after}}


def reddit(server: RecordedServer) -> RedditCollector:
    server.on("POST", "/api/v1/access_token", fixture("reddit", "access_token.json"))
    client = praw.Reddit(
        client_id="<id>",
        client_secret="<secret>",
        user_agent="kikimimi-tests/0.1",
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"session": server.session()},
    )
    return RedditCollector(client, ACCOUNTS, sleep=Sleeps())


def test_reddit_comments_from_the_same_second_as_the_last_stored_one_are_not_missed(session):
    empty = listing()
    first = RecordedServer().on("GET", SEARCH, empty).on("GET", COMMENTS, listing(comment("lz1000", T)))
    poll(session, reddit(first))
    # lz0ffe was written in the same second as lz1000 but has a lower id and reached the listing later;
    # a stream that stops at the first id ≤ the stored one misses it.
    again = listing(
        comment("lz1200", T + 100),
        comment("lz1000", T),
        comment("lz0ffe", T),
        comment("lz0f00", T - 60),  # older than the window: the stream stops here
        after="t1_lz0f00",
    )
    second = RecordedServer().on("GET", SEARCH, empty).on("GET", COMMENTS, again)
    run = poll(session, reddit(second))
    assert set(stored(session, "reddit")) == {"t1_lz1000", "t1_lz1200", "t1_lz0ffe"}
    assert (run.new_posts, run.duplicates) == (2, 1)  # the re-read one is absorbed by its unique id
    assert len(second.calls_to(COMMENTS)) == 1  # the overlap reads no further page


# --- Bluesky: follower counts in batches -------------------------------------------------------------


def view(i: int) -> dict:
    return {
        "uri": f"at://did:plc:a{i:03d}/app.bsky.feed.post/{i}",
        "cid": f"bafy{i}",
        "author": {"did": f"did:plc:a{i:03d}", "handle": f"u{i}.bsky.social", "displayName": f"U{i}"},
        "record": {"text": f"komorebi tea {i}", "createdAt": "2026-11-20T08:00:00.000Z", "langs": ["en"]},
        "indexedAt": "2026-11-20T08:00:01.000Z",
    }


def test_bluesky_follower_counts_arrive_from_get_profiles_25_authors_per_request(session):
    posts = [view(i) for i in range(30)] + [view(3)]  # one author twice: asked for once
    profiles = [
        {"did": f"did:plc:a{i:03d}", "handle": f"u{i}.bsky.social", "followersCount": i * 10} for i in range(30)
    ]
    server = RecordedServer().on("GET", "app.bsky.feed.searchPosts", {"posts": posts}, {"posts": []}, {"posts": []})
    server.on("GET", "app.bsky.feed.searchPosts", {"posts": []})
    server.on("GET", "app.bsky.actor.getProfiles", {"profiles": profiles[:25]}, {"profiles": profiles[25:]})
    client = atproto.Client(base_url="https://bsky.social/xrpc", request=Request(transport=server.httpx_transport()))
    collector = BlueskyCollector(client, ACCOUNTS, sleep=Sleeps(), fetch_follower_counts=True)
    run = poll(session, collector)
    assert run.status == "ok" and run.new_posts == 30
    asked = [c.url.count("actors=") for c in server.calls_to("getProfiles")]
    assert asked == [25, 5]
    reach = {a.handle: a.followers_count for a in session.exec(select(Author).where(Author.platform == "bluesky"))}
    assert reach["u0.bsky.social"] == 0 and reach["u29.bsky.social"] == 290 and len(reach) == 30


def test_a_failed_profile_lookup_costs_the_counts_not_the_page(session):
    server = RecordedServer().on("GET", "app.bsky.feed.searchPosts", {"posts": [view(1)]}, *[{"posts": []}] * 3)
    server.on("GET", "app.bsky.actor.getProfiles", Reply(400, {"error": "InvalidRequest", "message": "nope"}))
    client = atproto.Client(base_url="https://bsky.social/xrpc", request=Request(transport=server.httpx_transport()))
    run = poll(session, BlueskyCollector(client, ACCOUNTS, sleep=Sleeps(), fetch_follower_counts=True))
    assert run.status == "ok" and run.new_posts == 1
    assert session.exec(select(Author.followers_count).where(Author.platform == "bluesky")).one() is None


# --- Mastodon: raw is what the server sent -----------------------------------------------------------

TAG = "/api/v1/timelines/tag/komorebitea"
HEADERS = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "290", "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"}


def test_mastodon_raw_is_the_servers_own_json(session):
    sent = fixture("mastodon", "tag_first.json")
    server = RecordedServer().on("GET", "/api/v2/instance/", Reply(200, fixture("mastodon", "instance_v2.json")))
    server.on("GET", TAG, Reply(200, sent, HEADERS))
    server.on("GET", "/api/v2/search", Reply(200, fixture("mastodon", "search_empty.json"), HEADERS))
    server.on("GET", "/api/v2/search", Reply(200, fixture("mastodon", "search_empty.json"), HEADERS))
    server.on("GET", "/api/v1/notifications", Reply(200, [], HEADERS))
    client = Mastodon(
        api_base_url="https://mastodon.social",
        access_token="<token>",
        session=server.session(),
        ratelimit_method="throw",
        version_check_mode="none",
        mastodon_version=MASTODON_VERSION,
    )
    run = poll(session, MastodonCollector(client, ACCOUNTS, sleep=Sleeps(), page_size=2))
    posts = stored(session, "mastodon")
    assert run.new_posts >= 1 and sent[0]["id"] in posts
    for status in sent:
        if status["id"] in posts:
            assert posts[status["id"]].raw == status  # the JSON as sent: no null fields added, no parsed times
    assert posts[sent[0]["id"]].raw["created_at"] == "2026-11-20T08:00:00.000Z"
