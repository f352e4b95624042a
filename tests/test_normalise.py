"""The pure normalisers: real payload shapes in, exact rows out."""

import json
from datetime import UTC, datetime

import pytest

from kikimimi.errors import MalformedPayload
from listener import bluesky, mastodon, reddit, x
from listener.base import BrandAccounts
from listener.sample import BUNDLED_FEED, NORMALISERS

BRAND = BrandAccounts.from_mapping(
    {
        "x": ["komorebi_tea"],
        "reddit": ["KomorebiTeaCo"],
        "bluesky": ["komorebitea.bsky.social"],
        "mastodon": ["komorebi@mastodon.social"],
    }
)


def tweet(**overrides):
    t = {
        "id": "1851",
        "text": "@komorebi_tea where is my order??",
        "author_id": "42",
        "created_at": "2026-11-03T09:15:00.000Z",
        "conversation_id": "1851",
        "lang": "en",
        "entities": {"mentions": [{"username": "komorebi_tea", "id": "1500000000000000001"}]},
    }
    t.update(overrides)
    return {
        "tweet": t,
        "author": {"id": "42", "username": "mika_t", "name": "Mika", "public_metrics": {"followers_count": 310}},
    }


def test_tweet_mentioning_the_brand_is_replyable():
    post = x.normalise_tweet(tweet(), BRAND)
    assert (post.platform, post.external_id, post.thread_id) == ("x", "1851", "1851")
    assert post.created_at == datetime(2026, 11, 3, 9, 15, tzinfo=UTC)
    assert post.url == "https://x.com/mika_t/status/1851"
    assert post.replyable and "mentioned" in post.replyable_reason
    assert post.author.followers_count == 310 and post.author.display_name == "Mika"
    assert post.raw["tweet"]["id"] == "1851"


def test_tweet_naming_the_brand_without_mention_needs_a_manual_reply():
    post = x.normalise_tweet(tweet(text="komorebi tea is slow lately", entities=None), BRAND)
    assert not post.replyable
    assert "@mention" in post.replyable_reason


def test_brand_reply_on_x_is_recognised():
    payload = tweet(referenced_tweets=[{"type": "replied_to", "id": "1850"}])
    payload["author"] = {"id": "1500000000000000001", "username": "Komorebi_Tea", "name": "Komorebi"}
    post = x.normalise_tweet(payload, BRAND)
    assert post.is_brand_reply and post.parent_external_id == "1850" and post.author.is_brand


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"tweet": {"id": "1"}},
        {"tweet": {**tweet()["tweet"], "id": None}, "author": {}},
        {"tweet": {**tweet()["tweet"], "created_at": "yesterday"}, "author": {"id": 1}},
    ],
)
def test_malformed_tweet_raises_with_its_id(broken):
    with pytest.raises(MalformedPayload, match="x: tweet"):
        x.normalise_tweet(broken, BRAND)


def test_reddit_comment_in_a_locked_thread_is_not_replyable():
    payload = {
        "kind": "comment",
        "data": {
            "id": "c1",
            "name": "t1_c1",
            "body": "still no refund",
            "author": "tea_fan",
            "author_fullname": "t2_abc",
            "created_utc": 1793000000.0,
            "link_id": "t3_s1",
            "parent_id": "t3_s1",
            "permalink": "/r/tea/comments/s1/x/c1/",
            "locked": True,
        },
    }
    post = reddit.normalise_thing(payload, BRAND)
    assert (post.external_id, post.thread_id, post.parent_external_id) == ("t1_c1", "t3_s1", "t3_s1")
    assert not post.replyable and post.replyable_reason == "the thread is locked"
    assert post.url == "https://www.reddit.com/r/tea/comments/s1/x/c1/"


def test_reddit_submission_joins_title_and_body():
    payload = {
        "kind": "submission",
        "data": {
            "id": "s1",
            "title": "Komorebi matcha?",
            "selftext": "Worth it?",
            "author": "a",
            "created_utc": 1793000000,
            "permalink": "/r/tea/s1",
        },
    }
    post = reddit.normalise_thing(payload, BRAND)
    assert post.text == "Komorebi matcha?\n\nWorth it?" and post.external_id == "t3_s1" and post.replyable


def test_bluesky_reply_keeps_root_and_parent():
    view = {
        "uri": "at://did:plc:x/app.bsky.feed.post/3k",
        "cid": "c",
        "author": {"did": "did:plc:x", "handle": "sakura.bsky.social", "displayName": "さくら🌸"},
        "record": {
            "text": "まだ届かないんだけど…",
            "createdAt": "2026-11-09T01:00:00Z",
            "langs": ["ja"],
            "reply": {"root": {"uri": "at://r"}, "parent": {"uri": "at://p"}},
        },
    }
    post = bluesky.normalise_post_view(view, BRAND)
    assert (post.thread_id, post.parent_external_id, post.language) == ("at://r", "at://p", "ja")
    assert post.url == "https://bsky.app/profile/sakura.bsky.social/post/3k"


def test_mastodon_direct_message_stays_private_and_html_becomes_text():
    status = {
        "id": "111",
        "content": "<p>Hi <a href='x'>@komorebi</a>,</p><p>my card was charged twice &amp; no reply<br>help</p>",
        "created_at": "2026-11-05T10:00:00Z",
        "visibility": "direct",
        "in_reply_to_id": None,
        "account": {
            "id": "9",
            "acct": "ken@fosstodon.org",
            "display_name": "Ken",
            "url": "https://fosstodon.org/@ken",
            "followers_count": 12,
        },
    }
    post = mastodon.normalise_status(status, BRAND)
    assert post.text == "Hi @komorebi,\nmy card was charged twice & no reply\nhelp"
    assert post.visibility == "private" and post.replyable and "privately" in post.replyable_reason


def test_mastodon_local_brand_account_is_the_brand():
    status = {
        "id": "5",
        "content": "<p>Sorry!</p>",
        "created_at": "2026-11-05T10:00:00Z",
        "in_reply_to_id": "111",
        "account": {"id": "1", "acct": "komorebi", "url": "https://mastodon.social/@komorebi"},
    }
    post = mastodon.normalise_status(status, BRAND)
    assert post.author.is_brand and post.is_brand_reply and not post.replyable


def test_every_bundled_sample_item_normalises():
    lines = BUNDLED_FEED.read_text(encoding="utf-8").splitlines()
    posts = [NORMALISERS[item["platform"]](item["payload"], BRAND) for item in map(json.loads, lines)]
    assert len(posts) == len(lines) >= 300
    assert {p.platform for p in posts} == {"x", "reddit", "bluesky", "mastodon"}
    assert len({(p.platform, p.external_id) for p in posts}) == len(posts)
    assert sum(p.is_brand_reply for p in posts) >= 40
