"""Collector runs over the sample feed: cursor, run records, crash safety, malformed items."""

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from kikimimi.db import get_engine
from kikimimi.models import Brand, CollectorRun, Cursor, Post
from kikimimi.timeutil import as_utc
from listener import runner
from listener.registry import brand_accounts
from listener.sample import BUNDLED_FEED, SampleCollector
from tests.conftest import TEST_NOW


def feed_size() -> int:
    return len(BUNDLED_FEED.read_text(encoding="utf-8").splitlines())


def target(session, settings):
    brand = settings.brands[0]
    t = runner.ensure_target(session, brand, brand.queries[0])
    session.commit()
    return t


def count_posts(session) -> int:
    return session.exec(select(func.count()).select_from(Post)).one()


def test_polling_twice_stores_every_sample_post_once(session, settings):
    collector = SampleCollector(brand_accounts(settings))
    first = runner.collect(session, collector, target(session, settings))
    second = runner.collect(session, collector, target(session, settings))
    assert (first.status, first.items_seen, first.new_posts) == ("ok", feed_size(), feed_size())
    assert (second.items_seen, second.new_posts) == (0, 0)
    assert count_posts(session) == feed_size()
    cursor = session.exec(select(Cursor)).one()
    assert cursor.platform == "sample" and cursor.position.startswith(f"{feed_size()}@")
    assert session.exec(select(func.count()).select_from(CollectorRun)).one() == 2
    assert session.exec(select(Brand)).one().name == "Komorebi Tea"
    assert all(p.brand_id is not None for p in session.exec(select(Post)))


def test_backfill_replays_everything_without_duplicates(session, settings):
    collector = SampleCollector(brand_accounts(settings))
    runner.collect(session, collector, target(session, settings))
    again = runner.collect(session, collector, target(session, settings), backfill=True)
    assert (again.items_seen, again.new_posts, again.duplicates) == (feed_size(), 0, feed_size())


def test_crash_between_fetch_and_save_loses_and_duplicates_nothing(session, settings, monkeypatch):
    collector = SampleCollector(brand_accounts(settings), page_size=50)
    real_store = runner.store_page
    calls = {"n": 0}

    def crash_on_third_page(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("power cut")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(runner, "store_page", crash_on_third_page)
    with pytest.raises(KeyboardInterrupt):
        runner.collect(session, collector, target(session, settings))
    monkeypatch.setattr(runner, "store_page", real_store)
    session.close()
    with Session(get_engine(settings.database_url)) as fresh:  # a restarted process
        assert count_posts(fresh) == 100
        assert fresh.exec(select(Cursor)).one().position.startswith("100@")
        runner.collect(fresh, SampleCollector(brand_accounts(settings), page_size=50), target(fresh, settings))
        assert count_posts(fresh) == feed_size()
        ids = fresh.exec(select(Post.platform, Post.external_id)).all()
        assert len(set(ids)) == len(ids) == feed_size()


def test_the_sample_feed_is_rebased_to_end_in_the_day_before_its_first_poll(session, settings, tmp_path, clock):
    lines = BUNDLED_FEED.read_text(encoding="utf-8").splitlines()
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines[:-10]) + "\n", encoding="utf-8")
    runner.collect(session, SampleCollector(brand_accounts(settings), feed), target(session, settings))
    clock.advance(timedelta(days=3))  # the feed grows three days later: its new posts move by the same days
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner.collect(session, SampleCollector(brand_accounts(settings), feed), target(session, settings))

    stored = {(p.platform, p.external_id): as_utc(p.created_at) for p in session.exec(select(Post))}
    original = [SampleCollector(brand_accounts(settings)).normalise(json.loads(line)) for line in lines]
    shifts = {stored[(post.platform, post.external_id)] - post.created_at for post in original}
    assert len(stored) == len(original) and len(shifts) == 1
    assert shifts.pop() % timedelta(days=1) == timedelta(0)  # whole days: every post keeps its time of day
    first_poll = [stored[(post.platform, post.external_id)] for post in original[:-10]]
    assert TEST_NOW - timedelta(days=1) < max(first_poll) <= TEST_NOW


def test_a_feed_stored_before_rebasing_is_never_shifted(session, settings, tmp_path):
    lines = BUNDLED_FEED.read_text(encoding="utf-8").splitlines()
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines[:10]) + "\n", encoding="utf-8")
    runner.collect(session, SampleCollector(brand_accounts(settings), feed), target(session, settings))
    cursor = session.exec(select(Cursor)).one()
    assert cursor.position.startswith("10@+")
    cursor.position = "10"  # what an older Kikimimi wrote: no re-basing
    session.add(cursor)
    session.commit()
    feed.write_text("\n".join(lines[:20]) + "\n", encoding="utf-8")
    runner.collect(session, SampleCollector(brand_accounts(settings), feed), target(session, settings))
    eleventh = SampleCollector(brand_accounts(settings)).normalise(json.loads(lines[10]))
    row = session.exec(select(Post).where(Post.external_id == eleventh.external_id)).one()
    assert as_utc(row.created_at) == eleventh.created_at


def test_malformed_lines_are_skipped_and_counted(session, settings, tmp_path, caplog):
    good = BUNDLED_FEED.read_text(encoding="utf-8").splitlines()[:3]
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            [
                good[0],
                "{not json",
                json.dumps({"platform": "x", "payload": {"tweet": {}}}),
                json.dumps({"platform": "myspace", "payload": {}}),
                *good[1:],
            ]
        )
        + "\n"
    )
    run = runner.collect(session, SampleCollector(brand_accounts(settings), feed), target(session, settings))
    assert (run.status, run.items_seen, run.new_posts, run.errors) == ("partial", 6, 3, 3)
    assert "line 2" in caplog.text and "myspace" in caplog.text
