"""`kikimimi posting pause|resume|status` and what `kikimimi run --json` says about posting."""

import json

import pytest
from sqlmodel import select
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
    assert invoke("posting", "resume", "--as", "admin").exit_code == 0
    after = status()
    assert after["paused"] is False and [e["enabled"] for e in after["history"]] == [False, True]


def test_only_an_admin_may_pause(monkeypatch, capsys):
    invoke("init")
    runner.invoke(cli.app, ["users", "add", "aki", "--role", "approver", "--password-stdin"], input="aki-secret-1\n")
    monkeypatch.setattr("sys.argv", ["kikimimi", "posting", "pause", "--as", "aki"])
    with pytest.raises(SystemExit) as exit:
        cli.main()
    assert exit.value.code == 2
    assert "may not pause posting" in capsys.readouterr().err
    assert status()["paused"] is False
    from kikimimi.db import open_session
    from kikimimi.models import AuditEvent
    from kikimimi.settings import load_settings

    with open_session(load_settings(fallback_to_example=True)) as s:
        refusal = s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")).one()
        assert (refusal.actor, refusal.action, refusal.target_id) == ("aki", "pause_posting", "posting_paused")


def test_the_run_report_counts_unknown_outcomes_and_reconciliations(capsys):
    from kikimimi.pipeline import RunSummary
    from responder.posting import PostingReport

    report = PostingReport(unknown=[4], reconciled=[4, 5], reconciled_posted=[4], reconciled_not_posted=[5])
    report.held_unknown, report.awaiting_retry, report.paused = [6], [5], True
    cli._report(RunSummary(posting=report), json_output=True)
    data = json.loads(capsys.readouterr().out)
    assert (data["unknown"], data["reconciled"], data["held_unknown"], data["awaiting_retry"]) == (1, 2, 1, 1)
    assert data["posting_paused"] is True and data["posted"] == 0
    cli._report(RunSummary(posting=report), json_output=False)
    text = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "posting is paused" in text and "still unknown, not re-posted 1" in text
