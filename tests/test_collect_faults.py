"""Every client against a misbehaving platform on 127.0.0.1: hangs, 429s with huge resets, 5xx, HTML, broken JSON,
junk rate-limit headers. The real libraries (tweepy, praw/prawcore, Mastodon.py, atproto/httpx) talk to a real
socket; each run must end in bounded time, sleep no longer than our cap, and keep a short error.
"""

from __future__ import annotations

import time
from datetime import timedelta

import prawcore.sessions
import pytest

from kikimimi.platforms.bluesky import bluesky_client
from kikimimi.platforms.http import BoundedSession
from kikimimi.platforms.mastodon import mastodon_client
from kikimimi.platforms.reddit import reddit_client
from kikimimi.platforms.retry import MAX_RATE_LIMIT_WAIT_SECONDS
from kikimimi.platforms.x import x_client
from kikimimi.settings import QueryConfig
from kikimimi.timeutil import utcnow
from listener.bluesky import BlueskyCollector
from listener.mastodon import MastodonCollector
from listener.reddit import RedditCollector
from listener.x import XCollector
from tests.collect_support import ACCOUNTS, Sleeps, cursor_of, poll
from tests.fake_http_support import HANG_SECONDS, Answer, fake_platform

TIMEOUT = 0.3  # seconds, connect and read: short, so a hang costs the suite little
QUERY = QueryConfig(name="faults", keywords=["komorebi"], mention_handles=False)
PLATFORMS = ("x", "reddit", "mastodon", "bluesky")
EMPTY_PAGE = {
    "x": {"meta": {"result_count": 0}},
    "reddit": {"kind": "Listing", "data": {"children": [], "after": None}},
    "mastodon": {"accounts": [], "statuses": [], "hashtags": []},
    "bluesky": {"posts": []},
}
HTML_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body>" + "<p>upstream down</p>" * 10_000 + "</body></html>"
)


class ToFake(BoundedSession):
    """tweepy's host is fixed (https://api.twitter.com): send its requests to the fake instead."""

    def __init__(self, base: str) -> None:
        super().__init__(TIMEOUT, TIMEOUT)
        self.base = base

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().request(method, str(url).replace("https://api.twitter.com", self.base), *args, **kwargs)


def collector(platform: str, url: str, sleeps: Sleeps):  # type: ignore[no-untyped-def]
    """The production client builders, pointed at the fake with short timeouts."""
    timeout = (TIMEOUT, TIMEOUT)
    if platform == "x":
        return XCollector(x_client("<token>", session=ToFake(url)), ACCOUNTS, sleep=sleeps)
    if platform == "reddit":
        client = reddit_client("id", "secret", "kikimimi tests", timeout=timeout, oauth_url=url, reddit_url=url)
        return RedditCollector(client, ACCOUNTS, sleep=sleeps, comments=False)
    if platform == "mastodon":
        return MastodonCollector(mastodon_client(url, "<token>", timeout=timeout), ACCOUNTS, sleep=sleeps)
    return BlueskyCollector(bluesky_client(timeout=timeout, base_url=f"{url}/xrpc"), ACCOUNTS, sleep=sleeps)


@pytest.fixture(autouse=True)
def no_prawcore_retry_pauses(monkeypatch):
    """prawcore pauses up to 4 s (its own, bounded) before retrying a 5xx or a timeout; skip them for speed."""
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


def run_against(session, platform: str, answer: Answer, *, backfill: bool = False):  # type: ignore[no-untyped-def]
    sleeps = Sleeps()
    with fake_platform(answer) as fake:
        started = time.monotonic()
        run = poll(session, collector(platform, fake.url, sleeps), QUERY, backfill=backfill)
        elapsed = time.monotonic() - started
    assert fake.paths, "the collector never reached the fake platform"
    return run, elapsed, sleeps


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_hung_server_fails_the_run_after_the_timeouts_not_never(session, platform):
    run, elapsed, sleeps = run_against(session, platform, Answer(hang=True))
    assert run.status == "failed" and run.finished_at is not None
    assert elapsed < HANG_SECONDS, f"{platform} waited {elapsed:.1f}s: a request ran past its timeout"
    assert "network" in run.error_message or "time" in run.error_message.lower()
    assert all(s <= 30 for s in sleeps)  # back-off between retries stays under its cap


def _huge_reset_headers(platform: str) -> dict[str, str]:
    reset = utcnow() + timedelta(hours=3)
    return {
        "x": {"x-rate-limit-reset": str(int(reset.timestamp())), "x-rate-limit-remaining": "0"},
        "reddit": {"x-ratelimit-reset": "10800", "x-ratelimit-remaining": "0", "x-ratelimit-used": "100"},
        "mastodon": {"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"), "X-RateLimit-Remaining": "0"},
        "bluesky": {"ratelimit-reset": str(int(reset.timestamp())), "ratelimit-remaining": "0"},
    }[platform]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_429_with_a_three_hour_reset_is_recorded_never_slept(session, platform):
    answer = Answer(429, {"error": "RateLimitExceeded"}, _huge_reset_headers(platform))
    run, elapsed, sleeps = run_against(session, platform, answer)
    assert run.status == "rate_limited"
    assert all(s <= MAX_RATE_LIMIT_WAIT_SECONDS + 1 for s in sleeps) and elapsed < 5
    until = cursor_of(session, platform, QUERY).state.get("rate_limited_until")
    if platform != "mastodon":  # Mastodon.py keeps the reset only when the server's clock agrees with ours
        assert until is not None and until > (utcnow() + timedelta(hours=2)).isoformat()


def test_reddit_never_sleeps_three_hours_when_a_200_says_the_budget_is_spent(session):
    """prawcore would sleep until `x-ratelimit-reset` before the next request; ours stops at the cap."""
    page = {"kind": "Listing", "data": {"children": [], "after": "t3_zzz"}}
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "100", "x-ratelimit-reset": "10800"}
    run, elapsed, sleeps = run_against(session, "reddit", Answer(200, page, headers), backfill=True)
    assert run.status == "rate_limited" and elapsed < 5 and sleeps == []
    assert "until" in run.error_message


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_errors_are_retried_then_fail_with_a_short_message(session, platform, status):
    run, elapsed, sleeps = run_against(session, platform, Answer(status, HTML_PAGE, {"content-type": "text/html"}))
    assert run.status == "failed" and elapsed < 5
    assert len(run.error_message) <= 300 and str(status) in run.error_message


@pytest.mark.parametrize(
    "answer",
    [
        Answer(200, HTML_PAGE, {"content-type": "text/html; charset=utf-8"}),
        Answer(200, '{"data": [{"id": ', {"content-type": "application/json"}),
        Answer(200, "", {"content-type": "application/json"}),
    ],
    ids=["html-page", "malformed-json", "empty-body"],
)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_200_that_is_not_a_json_page_fails_the_run_with_a_short_message(session, platform, answer):
    run, elapsed, _ = run_against(session, platform, answer)
    assert run.status == "failed", run.error_message
    assert run.error_message and len(run.error_message) <= 300  # the 200 KB page is not the run's error
    assert cursor_of(session, platform, QUERY).position is None  # nothing read, so the cursor did not move


@pytest.mark.parametrize("platform", PLATFORMS)
def test_junk_rate_limit_headers_on_a_good_page_are_ignored(session, platform):
    junk = {
        "x-rate-limit-reset": "soon",
        "x-ratelimit-reset": "1e999",
        "x-ratelimit-remaining": "lots",
        "x-ratelimit-used": "-",
        "X-RateLimit-Reset": "tomorrow-ish",
        "ratelimit-reset": "9" * 40,
        "Retry-After": "NaN",
    }
    run, _, _ = run_against(session, platform, Answer(200, EMPTY_PAGE[platform], junk))
    assert run.status == "ok", run.error_message


@pytest.mark.parametrize("platform", ["x", "bluesky"])
def test_a_429_with_a_junk_reset_is_rate_limited_without_a_reset(session, platform):
    header = {"x": "x-rate-limit-reset", "bluesky": "ratelimit-reset"}[platform]
    run, elapsed, sleeps = run_against(session, platform, Answer(429, {"error": "slow down"}, {header: "9" * 40}))
    assert run.status == "rate_limited" and elapsed < 5 and sleeps == []
