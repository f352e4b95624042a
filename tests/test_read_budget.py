"""The monthly read budget: collection stops at it (counted per calendar month by the one clock, in the
database), says so on the CLI, in `kikimimi stats` and on the dashboard, and resumes the next month."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from dashboard.queries import read_budget_line
from kikimimi import budget, cli
from kikimimi.budget import budget_states, next_period_start, period_of
from kikimimi.errors import ConfigError
from kikimimi.models import ReadUsage
from kikimimi.settings import EXAMPLE_CONFIG, load_settings
from kikimimi.stats import stats
from listener import runner
from listener.base import Page
from tests.conftest import make_post


class Numbered:
    """A platform serving posts 1..total oldest first, `page_size` per request, resumable after the last id."""

    name = "x"
    min_page_size = 10

    def __init__(self, total: int, page_size: int = 100) -> None:
        self.total, self.page_size, self.asked = total, page_size, []

    def pages(self, query, cursor, *, backfill=False):
        after = int(cursor or 0)
        while after < self.total:
            self.asked.append(self.page_size)
            ids = list(range(after + 1, min(self.total, after + self.page_size) + 1))
            after = ids[-1]
            yield Page(items=[{"id": str(i)} for i in ids], cursor=str(after))

    def normalise(self, item):
        return make_post(item["id"])


def with_budget(settings, **budgets):
    return settings.model_copy(update={"read_budget": budgets})


def test_collection_stops_at_the_budget_and_resumes_next_month(session, settings, clock):
    limited = with_budget(settings, x=250)
    platform = Numbered(total=1000)
    run = runner.collect(
        session,
        platform,
        runner.ensure_target(session, limited.brands[0], limited.brands[0].queries[0]),
        settings=limited,
    )
    assert (run.status, run.new_posts) == ("over_budget", 250)
    assert platform.asked == [100, 100, 50]  # the last page asks only for what the budget has left
    assert "read budget used up for 2026-11 (250 of 250 items read)" in run.error_message
    assert "resumes on 2026-12-01" in run.error_message
    assert session.get(ReadUsage, ("x", "2026-11")).items == 250

    target = runner.ensure_target(session, limited.brands[0], limited.brands[0].queries[0])
    again = runner.collect(session, platform, target, settings=limited)
    assert (again.status, again.requests, again.new_posts) == ("over_budget", 0, 0) and platform.asked == [100, 100, 50]

    clock.set(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))  # a new month: the budget is available again
    resumed = runner.collect(session, platform, target, settings=limited)
    assert resumed.status == "over_budget" and resumed.new_posts == 250  # posts 251..500: nothing lost, none twice
    assert session.get(ReadUsage, ("x", "2026-12")).items == 250


def test_without_a_budget_reads_are_counted_and_never_stopped(session, settings):
    platform = Numbered(total=300)
    target = runner.ensure_target(session, settings.brands[0], settings.brands[0].queries[0])
    run = runner.collect(session, platform, target, settings=settings)
    assert run.status == "ok" and run.new_posts == 300
    platform.total = 350
    run = runner.collect(session, platform, target, settings=settings)
    assert run.new_posts == 50 and session.get(ReadUsage, ("x", "2026-11")).items == 350
    assert budget_states(session, settings)[0].budget is None


def test_the_x_minimum_page_size_is_kept_near_the_end_of_a_budget(session, settings):
    limited = with_budget(settings, x=105)
    platform = Numbered(total=1000)
    target = runner.ensure_target(session, limited.brands[0], limited.brands[0].queries[0])
    run = runner.collect(session, platform, target, settings=limited)
    assert platform.asked == [100, 10] and run.new_posts == 110  # X takes no fewer than 10 per page
    assert platform.page_size == 100  # restored for the next query


def test_months_are_calendar_months_in_utc():
    assert period_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "2026-12"
    assert next_period_start(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_negative_budget_is_refused_by_name(tmp_path):
    path = tmp_path / "kikimimi.toml"
    path.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8").replace("# x = 10000", "x = -1"), encoding="utf-8")
    with pytest.raises(ConfigError, match="read_budget.x"):
        load_settings(path)


def test_stats_and_the_dashboard_say_when_collection_stopped(session, settings):
    limited = with_budget(settings, x=100, bluesky=1000)
    assert read_budget_line(session, limited) is None
    budget.add_reads(session, "bluesky", 850)
    session.commit()
    assert read_budget_line(session, limited) == "bluesky: 850 of 1,000 items read in 2026-11 (85%)"
    budget.add_reads(session, "x", 100)
    session.commit()
    line = read_budget_line(session, limited)
    assert line == "x: read budget used up for 2026-11 (100 of 100 items read); collection resumes on 2026-12-01"
    counted = {s["platform"]: s for s in stats(session, limited)["read_budget"]}
    assert counted["x"]["spent"] and counted["bluesky"]["left"] == 150


def test_the_cli_shows_the_budget_in_collect_and_stats(tmp_path, monkeypatch):
    config = tmp_path / "kikimimi.toml"
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace("# x = 10000", "x = 50")
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("KIKIMIMI_CONFIG", str(config))
    monkeypatch.setattr(runner, "build_collector", lambda platform, settings: Numbered(total=80))
    result = CliRunner().invoke(cli.app, ["collect", "--platform", "x", "--once", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the warning log goes to stderr
    assert data["runs"][0]["status"] == "over_budget" and data["runs"][0]["new_posts"] == 50
    assert data["read_budget"][0] | {"resumes": "-"} == {
        "platform": "x",
        "period": "2026-11",
        "read": 50,
        "budget": 50,
        "left": 0,
        "spent": True,
        "resumes": "-",
    }
    table = CliRunner().invoke(cli.app, ["collect", "--platform", "x", "--once"])
    assert "read budget used up for 2026-11" in table.output and "resumes on 2026-12-01" in table.output
    shown = CliRunner().invoke(cli.app, ["stats"])
    assert "reads 2026-11: x" in shown.output and "50 of 50 — used up, resumes 2026-12-01" in shown.output


def test_the_trends_page_says_when_collection_stopped_at_the_budget(session, settings, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    budget.add_reads(session, "x", 5)
    session.commit()
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KIKIMIMI_READ_BUDGET", '{"x": 5}')
    from dashboard.auth import sign_in_for_test
    from kikimimi.models import Role, User

    viewer = User(name="vera", role=Role.viewer)
    session.add(viewer)
    session.commit()
    page = Path(__file__).parent.parent / "dashboard" / "views" / "trends.py"
    at = AppTest.from_file(str(page), default_timeout=60)
    sign_in_for_test(at, viewer.id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == [
        "x: read budget used up for 2026-11 (5 of 5 items read); collection resumes on 2026-12-01"
    ]


def test_x_asks_for_no_more_tweets_than_the_budget_has_left(session, settings):
    import tweepy

    from listener.x import XCollector
    from tests.collect_support import ACCOUNTS, RecordedServer, Sleeps

    def page(first: int, count: int, token: str | None) -> dict:
        tweets = [{"id": str(first - i), "text": f"komorebi tea {i}"} for i in range(count)]
        meta = {"newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"], "result_count": count}
        return {"data": tweets, "meta": {**meta, **({"next_token": token} if token else {})}}

    start = 1_900_000_000_000_000_000
    server = RecordedServer().on("GET", "/2/tweets/search/recent", page(start, 100, "t2"), page(start - 100, 50, "t3"))
    client = tweepy.Client(bearer_token="<X_BEARER_TOKEN>", return_type=dict)
    client.session = server.session()
    limited = with_budget(settings, x=150)
    target = runner.ensure_target(session, limited.brands[0], limited.brands[0].queries[0])
    run = runner.collect(session, XCollector(client, ACCOUNTS, sleep=Sleeps()), target, backfill=True, settings=limited)
    assert [c.params["max_results"] for c in server.calls] == ["100", "50"]
    assert (run.status, run.new_posts, session.get(ReadUsage, ("x", "2026-11")).items) == ("over_budget", 150, 150)
