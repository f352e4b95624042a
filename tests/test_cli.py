"""Every command, run as a user would (in-process through Typer's runner)."""

import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kikimimi import cli

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(cli.app, list(args), catch_exceptions=False)
    return result


def run_main(monkeypatch, *args: str) -> int:
    """Through cli.main, which turns KikimimiError into a one-line message and exit code 2."""
    monkeypatch.setattr("sys.argv", ["kikimimi", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    return info.value.code


def stats() -> dict:
    result = invoke("stats", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_command_has_help():
    for command in ("init", "run", "analyse", "stats", "dashboard", "demo", "users"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output


def test_demo_twice_stores_every_sample_post_once_and_prints_the_first_admins_password_once(isolated_environment):
    first = invoke("demo", "--no-dashboard")
    assert first.exit_code == 0, first.output
    said = "".join(first.output.split())  # the terminal may wrap a long path
    assert "demodatabase" in said and str(isolated_environment / "data") in said
    password = re.search(r"sign in as admin with the password (\S+) \(shown only now", " ".join(first.output.split()))
    assert password, first.output
    assert sign_in("admin", password.group(1)).role == "admin"
    once = stats()
    again = invoke("demo", "--no-dashboard")
    assert again.exit_code == 0, again.output
    assert password.group(1) not in again.output and "password printed when the demo first ran" in again.output
    twice = stats()
    assert once == {**twice, "collector_runs": once["collector_runs"]}
    assert twice["posts"] >= 400 and twice["analysed"] == twice["posts"]
    assert twice["drafts"]["drafted"] > 50 and twice["questions"] > 50 and twice["brand_replies"] >= 40
    chosen = invoke("demo", "--no-dashboard", "--admin-password", "my-own-admin-pw")
    assert chosen.exit_code == 0 and sign_in("admin", "my-own-admin-pw").name == "admin"


def test_init_writes_a_config_and_keeps_an_existing_one(isolated_environment):
    result = invoke("init")
    config = isolated_environment / "kikimimi.toml"
    assert result.exit_code == 0 and config.exists() and "database ready" in result.output
    assert "kikimimi users passwd admin" in result.output
    config.write_text(config.read_text() + "\n# mine\n")
    assert "keeping it" in invoke("init").output
    assert config.read_text().endswith("# mine\n")


def test_run_once_then_stats(isolated_environment):
    invoke("init")
    result = invoke("run", "--once", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["collected"][0]["new_posts"] >= 400 and summary["drafted"] > 0
    assert stats()["posts"] == summary["collected"][0]["new_posts"]


def test_run_needs_a_config(monkeypatch, capsys):
    monkeypatch.setenv("KIKIMIMI_CONFIG", "/nowhere/kikimimi.toml")
    assert run_main(monkeypatch, "run", "--once") == 2
    err = capsys.readouterr().err
    assert "config file not found: /nowhere/kikimimi.toml" in err and "Traceback" not in err


def test_bad_setting_in_the_environment_is_named(monkeypatch, capsys):
    monkeypatch.setenv("KIKIMIMI_POLL_INTERVAL_SECONDS", "soon")
    assert run_main(monkeypatch, "stats") == 2
    assert "poll_interval_seconds" in capsys.readouterr().err


def test_run_loop_stops_cleanly(monkeypatch):
    invoke("init")
    passes = []

    def one_pass_then_stop(settings, quiet=False):
        passes.append(1)
        import signal

        from kikimimi.pipeline import RunSummary

        signal.raise_signal(signal.SIGINT)  # what Ctrl-C delivers
        return RunSummary()

    monkeypatch.setattr(cli, "_run_with_progress", one_pass_then_stop)
    result = invoke("run", "--interval", "3600")
    assert result.exit_code == 0 and "stopped" in result.output and passes == [1]


def test_analyse_redo(sample_feed_run):
    invoke("init")
    result = invoke("analyse", "--redo", "--backend", "baseline")
    assert result.exit_code == 0, result.output
    assert f"analysed {stats()['posts']} posts with the baseline backend" in result.output


def sign_in(name: str, password: str):
    from kikimimi import accounts
    from kikimimi.db import open_session
    from kikimimi.settings import load_settings

    with open_session(load_settings(fallback_to_example=True)) as s:
        return accounts.authenticate(s, name, password)


def test_users_add_asks_for_a_password_twice_and_list_shows_who_can_sign_in():
    added = runner.invoke(cli.app, ["users", "add", "aki", "--role", "approver"], input="tea-leaves-9\ntea-leaves-9\n")
    assert added.exit_code == 0, added.output
    assert "tea-leaves-9" not in added.output  # hidden input is never echoed
    assert sign_in("aki", "tea-leaves-9").role == "approver"
    rows = {r["name"]: r for r in json.loads(invoke("users", "list", "--json").output)}
    assert rows["aki"]["role"] == "approver" and rows["aki"]["password"] is True
    assert rows["admin"]["password"] is False  # the first admin has none until someone sets it
    listing = invoke("users", "list").output
    assert "aki" in listing and "approver" in listing and "no password yet" in listing


def test_passwords_from_stdin_are_checked_and_changeable(monkeypatch, capsys):
    from kikimimi.accounts import SignInRefused

    ok = runner.invoke(
        cli.app, ["users", "add", "rin", "--role", "responder", "--password-stdin"], input="first-pass\n"
    )
    assert ok.exit_code == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    assert run_main(monkeypatch, "users", "passwd", "rin", "--password-stdin") == 2
    assert "at least 8 characters" in capsys.readouterr().err
    changed = runner.invoke(cli.app, ["users", "passwd", "rin", "--password-stdin"], input="second-pass\n")
    assert changed.exit_code == 0 and "password changed" in changed.output
    with pytest.raises(SignInRefused):
        sign_in("rin", "first-pass")
    assert sign_in("rin", "second-pass").name == "rin"
    role_only = invoke("users", "add", "rin", "--role", "approver", "--no-password")
    assert role_only.exit_code == 0 and sign_in("rin", "second-pass").role == "approver"


def test_dashboard_serves_the_app_with_the_same_database(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, env, check: calls.append((cmd, env)))
    result = invoke("dashboard", "--port", "8765")
    assert result.exit_code == 0 and "http://localhost:8765" in result.output
    [(cmd, env)] = calls
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("dashboard/app.py") and "8765" in cmd
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"  # this machine only, unless --host says so
    assert invoke("dashboard", "--host", "0.0.0.0").exit_code == 0
    assert calls[1][0][calls[1][0].index("--server.address") + 1] == "0.0.0.0"
    assert env["KIKIMIMI_DATABASE_URL"].endswith("kikimimi.sqlite3")


def test_an_unreachable_database_is_one_line_naming_the_host(tmp_path):
    env = {**os.environ, "KIKIMIMI_DATABASE_URL": "postgresql+psycopg://kiki:s3cret-pw@127.0.0.1:1/kikimimi"}
    done = subprocess.run(
        [sys.executable, "-m", "kikimimi", "stats"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "127.0.0.1" in lines[0] and "s3cret-pw" not in done.stderr, done.stderr
