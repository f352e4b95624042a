"""One bad item costs only itself: it is quarantined, the rest of its page stored, the cursor moves past both,
and every run ends ok / partial / failed with a short error, even after a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import tweepy
from sqlmodel import select
from typer.testing import CliRunner

from kikimimi import cli
from kikimimi.errors import MalformedPayload
from kikimimi.models import Author, CollectorRun, Post, Quarantine
from kikimimi.settings import EXAMPLE_CONFIG
from listener import fields, runner
from listener.base import Page
from listener.quarantine import quarantine_item
from listener.store import storable_post
from listener.x import XCollector, normalise_tweet
from tests.collect_support import ACCOUNTS, QUERY, Crash, RecordedServer, Sleeps, cursor_of, fixture, poll, stored
from tests.conftest import make_post

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def tweet(n: int, **overrides) -> dict:
    t = {"id": str(1861000000000001000 + n), "text": f"komorebi tea #{n}", "created_at": "2026-11-21T10:00:00Z"}
    return {"tweet": {**t, **overrides}, "author": {"id": f"u{n}", "username": f"user{n}"}}


class PageCollector:
    """Serves fixed pages of X-shaped items through the real X normaliser."""

    name = "x"

    def __init__(self, *pages: list, fail_after: Exception | None = None) -> None:
        self.page_items, self.fail_after = pages, fail_after

    def pages(self, query, cursor, *, backfill=False):  # type: ignore[no-untyped-def]
        for number, items in enumerate(self.page_items, start=1):
            yield Page(items=items, cursor=f"after-page-{number}")
        if self.fail_after is not None:
            raise self.fail_after

    def normalise(self, item):  # type: ignore[no-untyped-def]
        return normalise_tweet(item, ACCOUNTS)


BAD_ITEMS = [
    ("null id", tweet(1, id=None)),
    ("text is a number", tweet(2, text=12345)),
    ("date in 1970", tweet(3, created_at="1970-01-01T00:00:00Z")),
    ("date in 2999", tweet(4, created_at="2999-01-01T00:00:00Z")),
    ("epoch beyond datetime", tweet(5, created_at=1e300)),
    ("a string, not an object", "oops"),
    ("tweet is a list", {"tweet": [1, 2], "author": None}),
]


@pytest.mark.parametrize("label,bad", BAD_ITEMS, ids=[b[0] for b in BAD_ITEMS])
def test_one_bad_item_is_quarantined_and_the_rest_of_its_page_stored(session, label, bad):
    page = [tweet(10), bad, tweet(11)]
    run = runner.collect(session, PageCollector(page, [tweet(12)]), _target(session), now=NOW)
    assert (run.status, run.items_seen, run.new_posts, run.quarantined, run.errors) == ("partial", 4, 3, 1, 1)
    assert set(stored(session, "x")) == {tweet(n)["tweet"]["id"] for n in (10, 11, 12)}
    assert "None" not in stored(session, "x")
    (row,) = session.exec(select(Quarantine)).all()
    assert (row.platform, row.query_key, row.run_id, row.resolved) == ("x", QUERY.key, run.id, False)
    assert json.loads(row.raw) == bad and 0 < len(row.error) <= 300
    assert cursor_of(session, "x").position == "after-page-2"  # past the stored and the quarantined items


def test_text_nul_surrogates_huge_counts_and_nan_are_stored_not_lost(session):
    item = tweet(20, text="bad\x00byte \ud800 lone")
    item["author"]["public_metrics"] = {"followers_count": 2**64}
    item["tweet"]["score"] = float("nan")
    run = runner.collect(session, PageCollector([item]), _target(session), now=NOW)
    assert run.status == "ok" and run.new_posts == 1
    post = stored(session, "x")[item["tweet"]["id"]]
    assert post.text == "badbyte \ufffd lone" and post.raw["tweet"]["score"] is None
    assert session.get(Author, post.author_id).followers_count == 2**31 - 1


def test_a_row_the_database_refuses_is_quarantined_and_the_page_kept(session, monkeypatch):
    """Bypass the storable gate: the database itself refuses one row; savepoints keep the other two."""
    monkeypatch.setattr(runner, "storable_post", lambda post, now=None: post)
    bad = tweet(31)
    bad["author"]["public_metrics"] = {"followers_count": 2**70}
    monkeypatch.setattr(fields, "count", lambda value: value)  # and the normaliser's clamp
    run = runner.collect(session, PageCollector([tweet(30), bad, tweet(32)]), _target(session), now=NOW)
    assert (run.status, run.new_posts, run.quarantined) == ("partial", 2, 1)
    (row,) = session.exec(select(Quarantine)).all()
    assert "database refused" in row.error and row.external_id == bad["tweet"]["id"]


def test_a_platform_failure_after_a_stored_page_is_partial_with_a_short_error(session):
    collector = PageCollector([tweet(40)], fail_after=RuntimeError("boom " + "x" * 5000))
    run = runner.collect(session, collector, _target(session), now=NOW)
    assert run.status == "partial" and run.new_posts == 1
    assert run.error_message.startswith("unexpected RuntimeError: boom") and len(run.error_message) <= 300
    run = runner.collect(session, PageCollector(fail_after=ValueError("nothing read")), _target(session), now=NOW)
    assert run.status == "failed" and run.finished_at is not None


def test_a_run_cut_off_by_a_crash_is_closed_as_failed_by_the_next_run(session, monkeypatch):
    real = runner.store_page
    monkeypatch.setattr(runner, "store_page", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        runner.collect(session, PageCollector([tweet(50)]), _target(session), now=NOW)
    session.rollback()
    monkeypatch.setattr(runner, "store_page", real)
    runner.collect(session, PageCollector([tweet(50)]), _target(session), now=NOW)
    runs = session.exec(select(CollectorRun).order_by(CollectorRun.id)).all()
    assert [r.status for r in runs] == ["failed", "ok"]
    assert "interrupted" in runs[0].error_message and runs[0].finished_at is not None


def test_a_run_started_while_another_polls_says_so_and_the_first_keeps_its_own_result(session, settings, caplog):
    """Two runs of one query together: the second closes the first's `running` row and says it may be live; the
    first, which was not interrupted, ends with its own result, not the second's note."""
    from sqlmodel import Session

    from kikimimi.db import get_engine

    class Overlapping(PageCollector):
        def pages(self, query, cursor, *, backfill=False):  # type: ignore[no-untyped-def]
            yield Page(items=[tweet(60)], cursor="after-page-1")
            with Session(get_engine(settings.database_url), expire_on_commit=False) as other:  # a second process
                runner.collect(other, PageCollector([tweet(61)]), _target(other), now=NOW)
            yield Page(items=[tweet(62)], cursor="after-page-2")

    with caplog.at_level("WARNING", logger="listener.runner"):
        first = runner.collect(session, Overlapping(), _target(session), now=NOW)
    (warning,) = [r.getMessage() for r in caplog.records if "still marked running" in r.getMessage()]
    assert f"#{first.id} started" in warning and "another process is polling this query now" in warning
    session.expire_all()
    runs = session.exec(select(CollectorRun).order_by(CollectorRun.id)).all()
    assert [(r.status, r.error_message) for r in runs] == [("ok", None), ("ok", None)]
    assert runs[0].new_posts == 2 and runs[1].new_posts == 1


def test_a_page_is_atomic_on_sqlite_even_with_savepoints(session, monkeypatch):
    """SAVEPOINT on pysqlite would commit the page early without BEGIN IMMEDIATE; a crash must lose it all."""
    target = _target(session)
    real_commit, commits = session.commit, []

    def crash_at_the_page_commit():  # commits: the run record, the new cursor, then the page
        commits.append(1)
        if len(commits) == 3:
            raise Crash
        real_commit()

    monkeypatch.setattr(session, "commit", crash_at_the_page_commit)
    with pytest.raises(Crash):
        runner.collect(session, PageCollector([tweet(60), tweet(61)]), target, now=NOW)
    monkeypatch.undo()
    session.rollback()
    assert len(commits) == 3
    assert stored(session, "x") == {} and session.exec(select(Quarantine)).all() == []


def test_x_recordings_without_expansions_store_every_tweet_once(session):
    """Shaped like tweepy's own recording of search_recent_tweets: id and text only, no includes, no dates."""
    server = RecordedServer().on("GET", "/2/tweets/search/recent", fixture("x", "search_no_expansions.json"))
    client = tweepy.Client(bearer_token="<X_BEARER_TOKEN>", return_type=dict)
    client.session = server.session()
    run = poll(session, XCollector(client, ACCOUNTS, sleep=Sleeps()))
    assert (run.status, run.new_posts, run.quarantined) == ("ok", 10, 0)
    posts = stored(session, "x")
    newest = posts["1861000037748736400"]
    assert newest.created_at == datetime(2024, 11, 25, 10, 52, 39, 365000, tzinfo=UTC)  # from the snowflake id
    assert newest.url == "https://x.com/i/web/status/1861000037748736400" and not newest.replyable
    assert len({p.author_id for p in posts.values()}) == 10  # unknown authors never merge into one
    window = json.loads(cursor_of(session, "x").position)["search"]
    assert window["high"] == "1861000037748736400"


def test_storable_post_refuses_absurd_times_relative_to_the_injected_now():
    with pytest.raises(MalformedPayload, match="absurd"):
        storable_post(make_post(created_at=datetime(2026, 11, 25, tzinfo=UTC)), now=NOW)
    assert storable_post(make_post(created_at=datetime(2026, 11, 21, 23, tzinfo=UTC)), now=NOW)


def test_quarantine_list_and_retry_from_the_command_line(session, settings):
    good = tweet(70)
    quarantine_item(session, platform="x", item=good, error="a normaliser bug, since fixed", query_key=QUERY.key)
    quarantine_item(session, platform="x", item={"tweet": {"id": None}}, error="no id", query_key=QUERY.key)
    session.commit()
    cli_runner = CliRunner()
    args = ["-c", str(EXAMPLE_CONFIG)]
    listed = cli_runner.invoke(cli.app, ["quarantine", "list", "--json", *args], catch_exceptions=False)
    assert listed.exit_code == 0 and [r["error"] for r in json.loads(listed.stdout)] == [
        "no id",
        "a normaliser bug, since fixed",
    ]
    retried = cli_runner.invoke(cli.app, ["quarantine", "retry", "--json", *args], catch_exceptions=False)
    report = json.loads(retried.stdout)
    assert retried.exit_code == 1 and report["new_posts"] == 1 and len(report["resolved"]) == 1
    session.expire_all()
    assert session.exec(select(Post)).one().external_id == good["tweet"]["id"]
    remaining = json.loads(cli_runner.invoke(cli.app, ["quarantine", "list", "--json", *args]).stdout)
    assert [(r["retries"], r["resolved"]) for r in remaining] == [(1, False)] and "id" in remaining[0]["error"]


def test_collect_exit_codes_say_when_nothing_was_collected(monkeypatch):
    real_build = runner.build_collector

    def build(source, settings, env=None):
        return PageCollector(fail_after=RuntimeError("down")) if source == "x" else real_build(source, settings, env)

    monkeypatch.setattr(runner, "build_collector", build)
    cli_runner = CliRunner()
    args = ["collect", "-c", str(EXAMPLE_CONFIG), "--once", "--json"]
    only_x = cli_runner.invoke(cli.app, [*args, "-p", "x"], catch_exceptions=False)
    assert only_x.exit_code == 1 and json.loads(only_x.stdout)["runs"][0]["status"] == "failed"
    both = cli_runner.invoke(cli.app, [*args, "-p", "x", "-p", "sample"], catch_exceptions=False)
    assert both.exit_code == 3 and [r["status"] for r in json.loads(both.stdout)["runs"]] == ["failed", "ok"]


def _target(session):  # type: ignore[no-untyped-def]
    from tests.collect_support import target

    return target(session)
