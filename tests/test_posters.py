"""Live posters reply in the post's own thread and visibility, refuse what they must, and find their replies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kikimimi.errors import PlatformError
from kikimimi.models import Post
from kikimimi.settings import EXAMPLE_CONFIG, load_settings
from listener.bluesky import normalise_post_view
from listener.mastodon import normalise_status
from listener.reddit import normalise_thing, thing_payload
from listener.x import normalise_tweet, tweets_with_authors
from responder.posters import (
    BlueskyPoster,
    MastodonPoster,
    RedditPoster,
    XPoster,
    build_posters,
    reddit_markdown,
)
from tests.collect_support import ACCOUNTS, fixture


def as_post(created) -> Post:
    return Post(**created.model_dump(exclude={"author"}), author_id=1)


# --- X --------------------------------------------------------------------------------------------


class FakeTweepy:
    def __init__(self):
        self.created: list[dict] = []

    def create_tweet(self, **kwargs):
        self.created.append(kwargs)
        return {"data": {"id": "1861000000000009999", "text": kwargs["text"]}}

    def search_recent_tweets(self, query, **kwargs):
        self.query = query
        return {
            "data": [
                {
                    "id": "1861000000000009998",
                    "referenced_tweets": [{"type": "replied_to", "id": "1861000000000000111"}],
                },
                {
                    "id": "1861000000000009999",
                    "referenced_tweets": [{"type": "replied_to", "id": "1861000000000000205"}],
                },
            ]
        }


def x_posts() -> dict[str, Post]:
    items = tweets_with_authors(fixture("x", "search_page1.json"))
    return {i["tweet"]["id"]: as_post(normalise_tweet(i, ACCOUNTS)) for i in items}


def test_x_replies_in_thread_only_where_the_brand_was_mentioned_and_finds_its_reply():
    posts, client = x_posts(), FakeTweepy()
    poster = XPoster(client, "@komorebi_tea")
    reply_id = poster.reply(posts["1861000000000000205"], "Sorry Aiko, checking now", idempotency_key="k1")
    assert reply_id == "1861000000000009999"
    assert client.created == [
        {"text": "Sorry Aiko, checking now", "in_reply_to_tweet_id": "1861000000000000205", "user_auth": True}
    ]
    with pytest.raises(PlatformError, match="cannot be answered"):
        poster.reply(posts["1861000000000000204"], "ありがとうございます", idempotency_key="k2")
    assert len(client.created) == 1
    assert poster.find_reply(posts["1861000000000000205"], idempotency_key="k1") == "1861000000000009999"
    assert client.query == "conversation_id:1861000000000000205 from:komorebi_tea"
    assert poster.find_reply(posts["1861000000000000203"], idempotency_key="k3") is None


# --- Reddit ---------------------------------------------------------------------------------------


class FakeThing:
    def __init__(self, fullname, locked=False, archived=False, submission=None):
        self.fullname, self.locked, self.archived, self.submission = fullname, locked, archived, submission
        self.replies: list[str] = []

    def reply(self, body):
        self.replies.append(body)
        return SimpleNamespace(fullname="t1_newreply")


class FakeReddit:
    def __init__(self, things, ours=()):
        self.things, self.ours = things, list(ours)

    def submission(self, id):
        return self.things[f"t3_{id}"]

    def comment(self, id):
        return self.things[f"t1_{id}"]

    def redditor(self, name):
        return SimpleNamespace(comments=SimpleNamespace(new=lambda limit: self.ours[:limit]))


def reddit_posts() -> dict[str, Post]:
    listing = fixture("reddit", "search_page1.json")["data"]["children"]
    return {c["data"]["name"]: as_post(normalise_thing(thing_payload(c), ACCOUNTS)) for c in listing}


def test_reddit_replies_in_markdown_and_refuses_threads_locked_since_they_were_stored():
    posts = reddit_posts()
    open_thread = FakeThing("t3_1h3b00")
    locked_now = FakeThing("t3_1h3b00", locked=True)
    poster = RedditPoster(FakeReddit({"t3_1h3b00": open_thread}), "KomorebiTeaCo")
    assert poster.reply(posts["t3_1h3b00"], "Hi!\nSorry about the wait.", idempotency_key="k") == "t1_newreply"
    assert open_thread.replies == ["Hi!\n\nSorry about the wait."]
    with pytest.raises(PlatformError, match="the thread is locked"):
        RedditPoster(FakeReddit({"t3_1h3b00": locked_now}), "KomorebiTeaCo").reply(
            posts["t3_1h3b00"], "Hi", idempotency_key="k"
        )
    assert locked_now.replies == []
    with pytest.raises(PlatformError, match="the thread is locked"):  # stored as locked: no request at all
        poster.reply(posts["t3_1h3a00"], "Hi", idempotency_key="k")
    assert reddit_markdown("  one\n\n\ntwo  \nthree") == "one\n\ntwo\n\nthree"


def test_reddit_find_reply_looks_through_our_own_comments():
    posts = reddit_posts()
    ours = [
        SimpleNamespace(parent_id="t3_other", fullname="t1_a"),
        SimpleNamespace(parent_id="t3_1h3b00", fullname="t1_b"),
    ]
    poster = RedditPoster(FakeReddit({}, ours), "KomorebiTeaCo")
    assert poster.find_reply(posts["t3_1h3b00"], idempotency_key="k") == "t1_b"
    assert poster.find_reply(posts["t3_1h3a80"], idempotency_key="k") is None


# --- Bluesky --------------------------------------------------------------------------------------


class FakeAtproto:
    def __init__(self):
        self.sent: list = []
        self.me = SimpleNamespace(did="did:plc:komorebitea000000000001")

    def send_post(self, text, reply_to):
        self.sent.append((text, reply_to))
        return SimpleNamespace(uri="at://did:plc:komorebitea000000000001/app.bsky.feed.post/3new", cid="bafynew")

    def get_post_thread(self, uri, depth):
        mine = SimpleNamespace(post=SimpleNamespace(uri="at://mine", author=SimpleNamespace(did=self.me.did)))
        other = SimpleNamespace(post=SimpleNamespace(uri="at://other", author=SimpleNamespace(did="did:plc:x")))
        return SimpleNamespace(thread=SimpleNamespace(replies=[other, mine] if uri.endswith("5ccccccc2") else [other]))


def test_bluesky_reply_references_the_thread_root_and_the_parent():
    page = fixture("bluesky", "search_page1.json")["posts"]
    top = as_post(normalise_post_view(page[0], ACCOUNTS))
    nested_view = {**page[0], "uri": page[0]["uri"].replace("5ccccccc2", "5zzzzzzz2"), "cid": "bafychild"}
    nested_view["record"] = {**page[0]["record"], "reply": {"root": {"uri": page[0]["uri"], "cid": page[0]["cid"]}}}
    nested = as_post(normalise_post_view(nested_view, ACCOUNTS))
    client, logins = FakeAtproto(), []
    poster = BlueskyPoster(client, login=lambda: logins.append(1))
    poster.reply(top, "ご迷惑をおかけしております", idempotency_key="k")
    poster.reply(nested, "ありがとうございます", idempotency_key="k")
    (_, first), (_, second) = client.sent
    assert first.root.uri == first.parent.uri == top.external_id and first.parent.cid == page[0]["cid"]
    assert (second.root.uri, second.parent.uri, second.parent.cid) == (top.external_id, nested.external_id, "bafychild")
    assert logins == [1]
    with pytest.raises(PlatformError, match="Bluesky allows 300"):
        poster.reply(top, "あ" * 301, idempotency_key="k")
    assert poster.find_reply(top, idempotency_key="k") == "at://mine"
    assert poster.find_reply(nested, idempotency_key="k") is None


# --- Mastodon -------------------------------------------------------------------------------------


class FakeMastodon:
    def __init__(self):
        self.posted: list = []

    def status_post(self, status, **kwargs):
        self.posted.append((status, kwargs))
        return {"id": "113500000000009999"}

    def me(self):
        return {"id": "109000000000000001"}

    def status_context(self, id):
        return {
            "descendants": [
                {"id": "1", "account": {"id": "5"}, "in_reply_to_id": id},
                {"id": "113500000000009999", "account": {"id": "109000000000000001"}, "in_reply_to_id": id},
            ]
        }


def test_mastodon_answers_a_direct_message_privately_with_an_idempotency_key():
    dm = as_post(normalise_status(fixture("mastodon", "mentions.json")[0]["status"], ACCOUNTS))
    public = as_post(normalise_status(fixture("mastodon", "tag_page1.json")[0], ACCOUNTS))
    client = FakeMastodon()
    poster = MastodonPoster(client)
    assert poster.reply(dm, "配送先の変更を承りました。", idempotency_key="kikimimi-draft-7") == "113500000000009999"
    poster.reply(public, "@hana@fedibird.com ありがとうございます！", idempotency_key="kikimimi-draft-8")
    (dm_text, dm_kwargs), (public_text, public_kwargs) = client.posted
    assert dm_text == "@hana@fedibird.com 配送先の変更を承りました。"  # a DM is seen only by those it mentions
    assert dm_kwargs == {
        "in_reply_to_id": "113500000000000200",
        "visibility": "direct",
        "idempotency_key": "kikimimi-draft-7",
    }
    assert public_text == "@hana@fedibird.com ありがとうございます！" and public_kwargs["visibility"] == "public"
    assert poster.find_reply(dm, idempotency_key="kikimimi-draft-7") == "113500000000009999"


def test_build_posters_only_for_platforms_with_every_posting_credential():
    settings = load_settings(EXAMPLE_CONFIG)
    assert build_posters(settings, env={}) == {}
    env = {"MASTODON_API_BASE_URL": "https://mastodon.social", "MASTODON_ACCESS_TOKEN": "t", "X_API_KEY": "only one"}
    assert list(build_posters(settings, env=env)) == ["mastodon"]
    everything = {
        **env,
        "X_API_SECRET": "s",
        "X_ACCESS_TOKEN": "a",
        "X_ACCESS_TOKEN_SECRET": "b",
        "REDDIT_CLIENT_ID": "i",
        "REDDIT_CLIENT_SECRET": "s",
        "REDDIT_USER_AGENT": "kikimimi-test/0.1",
        "REDDIT_USERNAME": "KomorebiTeaCo",
        "REDDIT_PASSWORD": "p",
        "BLUESKY_HANDLE": "komorebitea.bsky.social",
        "BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop",
    }
    assert sorted(build_posters(settings, env=everything)) == ["bluesky", "mastodon", "reddit", "x"]


# --- posting exactly once: what an error says about whether the reply exists ------------------------


def test_answers_that_may_follow_a_created_reply_are_unknown_and_refusals_are_clear():
    import requests
    import tweepy

    from kikimimi.errors import TransientPlatformError
    from kikimimi.platforms.x import translate_error
    from responder.posters import posting_translate

    def http_error(status):
        response = requests.Response()
        response.status_code, response._content, response.reason = status, b"{}", "x"
        return tweepy.HTTPException(response) if status < 500 else tweepy.TwitterServerError(response)

    strict = posting_translate("x", translate_error)
    for status in (408, 409, 500, 502, 503, 504):
        assert isinstance(strict(http_error(status)), TransientPlatformError), status
    assert isinstance(strict(requests.ConnectionError("reset")), TransientPlatformError)
    refused = strict(http_error(403))
    assert isinstance(refused, PlatformError) and not isinstance(refused, TransientPlatformError)


def test_reddit_api_errors_are_refusals_and_its_ratelimit_is_not_sent():
    from praw.exceptions import RedditAPIException

    from kikimimi.errors import RateLimited
    from kikimimi.platforms.reddit import translate_error as _reddit_translate
    from responder.posting import classify_failure

    locked = _reddit_translate(RedditAPIException([["THREAD_LOCKED", "that thread is locked", "parent"]]))
    assert classify_failure(locked) == "refused" and "THREAD_LOCKED" in str(locked)
    slow_down = _reddit_translate(RedditAPIException([["RATELIMIT", "you are doing that too much", "ratelimit"]]))
    assert isinstance(slow_down, RateLimited) and classify_failure(slow_down) == "not_sent"


def test_every_poster_says_how_long_its_lookup_lags():
    assert XPoster.lookup_lag_seconds >= RedditPoster.lookup_lag_seconds >= MastodonPoster.lookup_lag_seconds > 0
    assert BlueskyPoster.lookup_lag_seconds > 0
