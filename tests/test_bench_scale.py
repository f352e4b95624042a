"""`kikimimi bench scale` runs end to end on a small database of the issue's shape (the figures themselves are for
the command, not for a test: this checks it still builds, renders every page and times every stage)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kikimimi.cli import app
from kikimimi.commands.scale import PAGES


def test_bench_scale_builds_both_sizes_and_times_every_page_query_and_stage(tmp_path):
    result = CliRunner().invoke(
        app, ["bench", "scale", "--posts", "1000", "--repeat", "1", "--data-dir", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(report["sizes"], key=int) == ["100", "1000"]  # N and N/10
    for size in ("100", "1000"):
        figures = report["sizes"][size]
        assert figures["rows"]["post"] >= int(size)
        assert set(figures["pages"]) == set(PAGES)
        assert len(figures["queries"]) >= 10  # the SELECTs the pages sent, each replayed
        assert {"analyse", "faq", "draft", "alerts", "whole pass"} <= set(figures["pipeline"])
        assert all(v["p95_ms"] >= v["p50_ms"] > 0 for part in ("pages", "pipeline") for v in figures[part].values())
    assert set(report["growth"]["pages"]) == set(PAGES)  # N against N/10, as a ratio
