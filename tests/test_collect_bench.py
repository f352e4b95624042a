"""The ingest benchmark measures what it claims: every replayed post is stored, and the simulation polls for real."""

from __future__ import annotations

from listener.bench import run_benchmark


def test_benchmark_stores_every_post_and_polls_every_platform():
    result = run_benchmark(posts=300, polls=12, per_hour=60, seed=3)
    throughput = result["throughput"]
    assert throughput["stored"] == 300 and throughput["store_new_per_s"] > 0
    rows = {row["platform"]: row for row in result["polling"]["platforms"]}
    assert set(rows) == {"x", "reddit", "bluesky", "mastodon"}
    for row in rows.values():
        assert row["polls"] == 12 and row["new_posts"] > 0 and row["requests"] >= 12
    # X answers a since_id poll in one request while fewer than a page of posts arrive
    assert rows["x"]["requests"] == 12
    # Bluesky's inclusive `since` shows each term's newest post again: counted as duplicates, never stored twice
    assert rows["bluesky"]["duplicates"] > 0
