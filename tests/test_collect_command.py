"""`kikimimi collect`, run as a user would."""

from __future__ import annotations

import json

import pytest
import tweepy
from typer.testing import CliRunner

from kikimimi import cli
from kikimimi.settings import EXAMPLE_CONFIG
from listener import runner as runner_module
from listener.registry import build_collector
from listener.x import XCollector
from tests.collect_support import ACCOUNTS, RecordedServer, Sleeps, fixture

runner = CliRunner()
CREDENTIALS = ("X_BEARER_TOKEN", "REDDIT_CLIENT_ID", "BLUESKY_HANDLE", "MASTODON_API_BASE_URL")


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch):
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str):
    return runner.invoke(cli.app, ["collect", "-c", str(EXAMPLE_CONFIG), *args], catch_exceptions=False)


def test_a_missing_credential_is_one_friendly_line_and_the_other_platforms_run():
    result = invoke("--once", "--platform", "x", "--platform", "sample", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "X_BEARER_TOKEN" in data["skipped"]["x"] and "developer.x.com" in data["skipped"]["x"]
    (run,) = data["runs"]
    assert (run["platform"], run["query"], run["status"]) == ("sample", "brand", "ok") and run["new_posts"] > 400


def test_nothing_can_run_exits_non_zero_and_says_why():
    result = invoke("--once", "--platform", "reddit")
    assert result.exit_code == 1
    assert "REDDIT_CLIENT_ID" in result.output and "approval" in result.output


def test_polling_with_nothing_to_poll_stops_instead_of_looping():
    result = invoke("--platform", "reddit")  # no --once: it would poll every 300 s
    assert result.exit_code == 1
    assert "nothing to poll" in result.output and "REDDIT_CLIENT_ID" in result.output


def test_an_unknown_query_is_named():
    result = runner.invoke(cli.app, ["collect", "-c", str(EXAMPLE_CONFIG), "--once", "--query", "nope"])
    assert result.exit_code != 0 and "no query named 'nope' (known: brand)" in str(result.exception)


def test_collect_x_with_a_table_then_backfill(monkeypatch):
    server = RecordedServer().on(
        "GET",
        "/2/tweets/search/recent",
        fixture("x", "search_page1.json"),
        fixture("x", "search_page1.json"),
        fixture("x", "search_page2.json"),
    )

    def build(source, settings, env=None):
        if source != "x":
            return build_collector(source, settings, env)
        client = tweepy.Client(bearer_token="<X_BEARER_TOKEN>", return_type=dict)
        client.session = server.session()
        return XCollector(client, ACCOUNTS, sleep=Sleeps())

    monkeypatch.setattr(runner_module, "build_collector", build)
    result = invoke("--once", "-p", "x", "--query", "brand")
    assert result.exit_code == 0, result.output
    assert "collected" in result.output and "│ x " in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("│ x "))
    assert [cell.strip() for cell in row.strip("│").split("│")] == [
        "x",
        "brand",
        "poll",
        "ok",
        "1",
        "3",
        "3",
        "0",
        "0",
        "0",
    ]
    result = invoke("--backfill", "-p", "x", "--json")
    (run,) = json.loads(result.stdout)["runs"]
    assert (run["mode"], run["requests"], run["new_posts"], run["duplicates"], run["errors"]) == (
        "backfill",
        2,
        1,
        3,
        1,
    )
