"""Deletions: posts deleted or made private on their platform are found by a bounded re-look-up (recorded
answers through the real client libraries), marked, hidden wherever posts are shown, and never answered."""

from __future__ import annotations

from datetime import timedelta

import atproto
import praw
import tweepy
from atproto_client.request import Request
from mastodon import Mastodon
from sqlmodel import select
from typer.testing import CliRunner

from kikimimi import cli
from kikimimi.models import Analysis, Author, DraftState, FaqCluster, FaqMember, FaqStatus, Post, ReadUsage, ReplyDraft
from kikimimi.platforms.mastodon import MASTODON_VERSION
from listener import deletions
from listener.bluesky import BlueskyCollector
from listener.deletions import check_deletions
from listener.mastodon import MastodonCollector
from listener.reddit import RedditCollector
from listener.store import upsert_posts
from listener.x import XCollector
from responder import faq
from responder.drafting import draft_pending
from responder.posting import post_approved
from tests.collect_support import ACCOUNTS, RecordedServer, Reply, Sleeps, fixture
from tests.conftest import make_post

NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
NOT_AUTHORIZED = "https://api.twitter.com/2/problems/not-authorized-for-resource"


def x_lookup_answer() -> dict:
    """GET /2/tweets?ids=1,2,3 as X answers it: the live tweet in `data`, the others in `errors`."""
    return {
        "data": [{"id": "1", "text": "still here", "edit_history_tweet_ids": ["1"]}],
        "errors": [
            {
                "value": "2",
                "detail": "Could not find tweet with ids: [2].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "2",
                "type": NOT_FOUND,
            },
            {
                "value": "3",
                "detail": "Sorry, you are not authorized to see the Tweet with ids: [3].",
                "title": "Authorization Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "3",
                "type": NOT_AUTHORIZED,
            },
        ],
    }


def x_checker(server: RecordedServer) -> XCollector:
    client = tweepy.Client(bearer_token="<X_BEARER_TOKEN>", return_type=dict)
    client.session = server.session()
    return XCollector(client, ACCOUNTS, sleep=Sleeps())


def store(session, platform: str, ids: list[str]) -> None:
    upsert_posts(session, [make_post(i, platform=platform, text=f"post {i}?") for i in ids])
    session.commit()


def marked(session, platform: str) -> dict[str, str | None]:
    session.expire_all()
    posts = session.exec(select(Post).where(Post.platform == platform)).all()
    return {p.external_id: p.deleted_reason for p in posts}


def test_x_lookup_marks_deleted_and_protected_tweets_in_one_request(session, settings):
    store(session, "x", ["1", "2", "3"])
    server = RecordedServer().on("GET", "/2/tweets", x_lookup_answer())
    run = check_deletions(session, x_checker(server), settings)
    assert (run.checked, run.deleted, run.requests, run.status) == (3, 2, 1, "ok")
    assert set(server.calls[0].params["ids"].split(",")) == {"1", "2", "3"}
    assert marked(session, "x") == {"1": None, "2": "deleted", "3": "made private"}
    assert session.get(ReadUsage, ("x", "2026-11")).items == 3  # X bills lookups: they count as reads


def test_reddit_info_marks_deleted_removed_and_vanished_things(session, settings):
    store(session, "reddit", ["t3_live", "t3_gone", "t1_deleted", "t1_removed", "t1_author_left"])
    listing = {
        "kind": "Listing",
        "data": {
            "children": [
                {"kind": "t3", "data": {"name": "t3_live", "title": "Matcha?", "selftext": "", "author": "a"}},
                {"kind": "t1", "data": {"name": "t1_deleted", "body": "[deleted]", "author": "[deleted]"}},
                {"kind": "t1", "data": {"name": "t1_removed", "body": "[removed]", "author": "[deleted]"}},
                {"kind": "t1", "data": {"name": "t1_author_left", "body": "kept text", "author": "[deleted]"}},
            ]
        },
    }
    server = RecordedServer().on("POST", "/api/v1/access_token", fixture("reddit", "access_token.json"))
    server.on("GET", "/api/info", listing)
    reddit = praw.Reddit(
        client_id="<id>",
        client_secret="<secret>",
        user_agent="kikimimi-tests/0.1",
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"session": server.session()},
    )
    run = check_deletions(session, RedditCollector(reddit, ACCOUNTS, sleep=Sleeps()), settings)
    assert (run.checked, run.deleted, run.status) == (5, 3, "ok")
    assert marked(session, "reddit") == {
        "t3_live": None,
        "t3_gone": "deleted",  # /api/info no longer returns it
        "t1_deleted": "deleted",
        "t1_removed": "removed",
        "t1_author_left": None,  # the account went, the comment stays
    }


def test_bluesky_get_posts_in_batches_of_25_marks_the_absent_ones(session, settings):
    uris = [f"at://did:plc:a/app.bsky.feed.post/{i:03d}" for i in range(30)]
    store(session, "bluesky", uris)
    present = [{"uri": u, "cid": "c", "author": {}, "record": {}, "indexedAt": ""} for u in uris if u[-1] != "7"]
    server = RecordedServer().on(
        "GET", "app.bsky.feed.getPosts", {"posts": present[:23]}, {"posts": present[23:]}
    )  # 25 asked, 23 there; then 5 asked, 4 there
    client = atproto.Client(base_url="https://bsky.social/xrpc", request=Request(transport=server.httpx_transport()))
    run = check_deletions(session, BlueskyCollector(client, ACCOUNTS, sleep=Sleeps()), settings)
    assert [len(c.url.split("uris=")) - 1 for c in server.calls] == [25, 5]
    assert (run.checked, run.deleted, run.requests) == (30, 3, 2)
    assert {u for u, reason in marked(session, "bluesky").items() if reason} == {uris[7], uris[17], uris[27]}


def test_mastodon_404_marks_the_status_deleted_or_private(session, settings):
    store(session, "mastodon", ["101", "102"])
    status = fixture("mastodon", "tag_first.json")[0]
    server = RecordedServer().on("GET", "/api/v1/statuses/101", status)
    server.on("GET", "/api/v1/statuses/102", Reply(404, {"error": "Record not found"}))
    client = Mastodon(
        api_base_url="https://mastodon.social",
        access_token="<token>",
        session=server.session(),
        ratelimit_method="throw",
        version_check_mode="none",
        mastodon_version=MASTODON_VERSION,
    )
    run = check_deletions(session, MastodonCollector(client, ACCOUNTS, sleep=Sleeps()), settings)
    assert (run.checked, run.deleted, run.requests) == (2, 1, 2)
    assert marked(session, "mastodon") == {"101": None, "102": "deleted or made private"}


def test_a_failed_lookup_marks_nothing_and_says_why(session, settings):
    store(session, "x", ["1", "2"])
    server = RecordedServer().on("GET", "/2/tweets", Reply(401, {"title": "Unauthorized"}))
    run = check_deletions(session, x_checker(server), settings)
    assert run.status == "failed" and "refused" in run.error and run.deleted == 0
    assert marked(session, "x") == {"1": None, "2": None}


def test_lookups_stop_at_the_read_budget(session, settings):
    store(session, "x", ["1", "2", "3"])
    limited = settings.model_copy(update={"read_budget": {"x": 2}})
    server = RecordedServer().on("GET", "/2/tweets", {"data": [{"id": "1", "text": "a"}, {"id": "2", "text": "b"}]})
    run = check_deletions(session, x_checker(server), limited)
    assert run.checked == 2 and len(server.calls[0].params["ids"].split(",")) == 2
    assert check_deletions(session, x_checker(RecordedServer()), limited).status == "over_budget"


def test_the_least_recently_checked_posts_are_looked_up_first(session, settings, clock, monkeypatch):
    store(session, "x", ["1", "2", "3"])
    monkeypatch.setitem(deletions.MAX_CHECKS, "x", 2)
    first = RecordedServer().on("GET", "/2/tweets", {"data": [{"id": "1", "text": "a"}, {"id": "2", "text": "b"}]})
    check_deletions(session, x_checker(first), settings)
    clock.advance(timedelta(seconds=60))
    second = RecordedServer().on("GET", "/2/tweets", {"data": [{"id": "3", "text": "c"}, {"id": "1", "text": "a"}]})
    check_deletions(session, x_checker(second), settings)
    assert set(second.calls[0].params["ids"].split(",")) == {"3", "1"}


# --- a marked post is hidden everywhere and never answered ---------------------------------------------


def _analysed_question(session, post_id: int) -> None:
    session.add(
        Analysis(
            post_id=post_id, language="en", sentiment="neutral", intent="shipping", is_question=True, needs_reply=True
        )
    )


def test_a_deleted_post_is_hidden_never_drafted_and_never_posted(session, settings, users):
    from dashboard import queries

    store(session, "x", ["1", "2", "3"])
    posts = {p.external_id: p for p in session.exec(select(Post))}
    for p in posts.values():
        _analysed_question(session, p.id)
    cluster = FaqCluster(label="shipping", size=3, status=FaqStatus.accepted, answer_en="Ships in 2 days.")
    session.add(cluster)
    session.flush()
    session.add_all(FaqMember(post_id=p.id, cluster_id=cluster.id) for p in posts.values())
    approved = ReplyDraft(post_id=posts["2"].id, text="Hi!", state=DraftState.approved, approved_version=1)
    session.add(approved)
    session.commit()

    server = RecordedServer().on("GET", "/2/tweets", x_lookup_answer())
    check_deletions(session, x_checker(server), settings)  # 2 deleted, 3 made private

    assert draft_pending(session) == 1  # only the live post gets a draft
    items, total = queries.queue(session, states=tuple(DraftState))
    assert total == 1 and {i.post.external_id for i in items} == {"1"}
    author = session.get(Author, posts["1"].author_id)
    assert all(row != "post 2?" for row in queries.author_history(session, author)["text"])
    assert [e.text for c in faq.candidates(session) for e in c.examples] == ["post 1?"]
    assert faq.candidates(session)[0].size == 1

    report = post_approved(session, {}, live=True)
    session.refresh(approved)
    assert approved.state == DraftState.approved and not report.posted
    assert report.skipped == [(approved.id, report.skipped[0][1])]
    assert "the post was deleted on x" in report.skipped[0][1]


def test_collect_deletions_prints_a_table_and_json(session, settings, monkeypatch):
    store(session, "x", ["1", "2", "3"])
    server = RecordedServer().on("GET", "/2/tweets", x_lookup_answer(), x_lookup_answer())
    monkeypatch.setattr(deletions, "build_collector", lambda platform, settings: x_checker(server))
    result = CliRunner().invoke(cli.app, ["collect", "--deletions", "--platform", "x"])
    assert result.exit_code == 0, result.output
    assert "deletions" in result.output and "deleted or private" in result.output
    assert "│ x" in result.output and "│ 2 " in result.output


def test_a_post_deleted_before_anyone_answered_is_no_abandonment(session, settings):
    from kikimimi.timeutil import utcnow
    from responder.sla import Scope, kpis

    def response_table(session):  # the posts that needed a reply, as the service-level page counts them
        return range(
            kpis(session, Scope(since=utcnow() - timedelta(days=3650), until=utcnow()), settings).needing_reply
        )

    store(session, "x", ["1", "2"])
    for p in session.exec(select(Post)):
        _analysed_question(session, p.id)
    session.commit()
    assert len(response_table(session)) == 2
    check_deletions(session, x_checker(RecordedServer().on("GET", "/2/tweets", x_lookup_answer())), settings)
    assert len(response_table(session)) == 1  # post 2 went before an answer could reach it
