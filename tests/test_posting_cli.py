"""`kikimimi posting pause|resume|status` and what `kikimimi run --json` says about posting."""

import json

import pytest
from typer.testing import CliRunner

from kikimimi import cli

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(cli.app, list(args), catch_exceptions=False)


def status() -> dict:
    result = invoke("posting", "status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_an_admin_pauses_and_resumes_posting_and_status_shows_it(monkeypatch, capsys):
    invoke("init")
    assert status()["paused"] is False
    paused = invoke("posting", "pause", "--as", "admin", "--reason", "shipping outage")
    assert paused.exit_code == 0 and "posting paused" in paused.output
    now = status()
    assert (now["paused"], now["paused_by"], now["reason"]) == (True, "admin", "shipping outage")
    assert "PAUSED" in invoke("posting", "status").output
    run = json.loads(invoke("run", "--once", "--json").output)
    assert run["posted"] == 0 and {"unknown", "reconciled", "held_unknown", "awaiting_retry"} <= run.keys()
    assert invoke("posting", "resume", "--as", "admin").exit_code == 0
    after = status()
    assert after["paused"] is False and [e["enabled"] for e in after["history"]] == [False, True]


def test_only_an_admin_may_pause(monkeypatch, capsys):
    invoke("init")
    invoke("users", "add", "aki", "--role", "approver")
    monkeypatch.setattr("sys.argv", ["kikimimi", "posting", "pause", "--as", "aki"])
    with pytest.raises(SystemExit) as exit:
        cli.main()
    assert exit.value.code == 2
    assert "may not pause posting" in capsys.readouterr().err
    assert status()["paused"] is False
