"""Many processes, one database: passes, drafting and migrations that start together never crash each other, and
a post never holds two open drafts, on SQLite and on a real private PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, func, select

from kikimimi.db import get_engine, migrate
from kikimimi.models import OPEN_DRAFT_STATES, Analysis, DraftState, FaqCluster, Lease, Post, ReplyDraft
from kikimimi.settings import EXAMPLE_CONFIG
from listener.sample import BUNDLED_FEED
from listener.store import upsert_posts
from responder import drafting, faq
from responder.workflow import RULES
from tests.conftest import TEST_NOW, make_post
from tests.postgres_server import fresh_database, required_postgres

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with required_postgres() as url:
        yield url


def needing_replies(url: str, n: int) -> None:
    migrate(url)
    with Session(get_engine(url)) as s:
        ids = upsert_posts(s, [make_post(f"q{i}", text="Where is my order?") for i in range(n)]).new_post_ids
        for pid in ids:
            s.add(Analysis(post_id=pid, language="en", sentiment="neutral", intent="order_status", needs_reply=True))
        s.commit()


def open_drafts_per_post(url: str) -> list[int]:
    with Session(get_engine(url)) as s:
        rows = s.exec(
            select(func.count())
            .select_from(ReplyDraft)
            .where(ReplyDraft.state.in_([st.value for st in OPEN_DRAFT_STATES]))  # type: ignore[attr-defined]
            .group_by(ReplyDraft.post_id)
        ).all()
    return sorted(set(rows))


def race_draft_pending(url: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Two draft_pending at once, the second reading its work before the first has written anything."""
    first_done, second_read = threading.Event(), threading.Event()
    render = drafting.render_draft
    results: dict[str, int] = {}

    def slow_render(**kw):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "second":
            second_read.set()
            first_done.wait(30)  # the second has read the same posts; it writes after the first committed
        return render(**kw)

    monkeypatch.setattr(drafting, "render_draft", slow_render)

    def run(name: str) -> None:
        with Session(get_engine(url)) as s:
            if name == "first":
                second_read.wait(30)
            results[name] = drafting.draft_pending(s)
        if name == "first":
            first_done.set()

    threads = [threading.Thread(target=run, args=(n,), name=n) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [results["first"], results["second"]]


def test_open_states_are_the_states_a_draft_can_leave():
    can_leave = {state for rule in RULES.values() if rule.target is not None for state in rule.sources}
    assert can_leave == set(OPEN_DRAFT_STATES)


def test_the_database_refuses_a_second_open_draft_but_not_one_after_a_rejection(settings):
    needing_replies(settings.database_url, 1)
    with Session(get_engine(settings.database_url)) as s:
        post_id = s.exec(select(Post.id)).one()
        s.add(ReplyDraft(post_id=post_id, text="a", state=DraftState.rejected))
        s.add(ReplyDraft(post_id=post_id, text="b"))
        s.commit()
        s.add(ReplyDraft(post_id=post_id, text="c"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_two_draft_pending_at_once_leave_one_draft_per_post_on_sqlite(settings, monkeypatch):
    needing_replies(settings.database_url, 30)
    assert race_draft_pending(settings.database_url, monkeypatch) == [30, 0]
    assert open_drafts_per_post(settings.database_url) == [1]


def test_two_processes_migrating_one_fresh_sqlite_file_both_succeed(tmp_path):
    for round_ in range(3):  # a race: several fresh files, each migrated by two processes at once
        url = f"sqlite:///{tmp_path}/fresh{round_}.sqlite3"
        done = _together([[*_kikimimi(), "db", "upgrade"]] * 2, url)
        assert [p.returncode for p in done] == [0, 0], [p.stderr[-500:] for p in done]
        assert "lease" in inspect(create_engine(url)).get_table_names()


def test_the_faq_step_runs_in_one_process_at_a_time(session):
    session.add(Lease(name=faq.LEASE_NAME, owner="another-host:1:abc", expires_at=TEST_NOW.replace(year=2027)))
    session.commit()
    assert faq.update(session, refresh_hours=0).busy
    assert faq.place_new_questions(session) == 0
    with pytest.raises(faq.FaqBusy):
        faq.refresh(session)
    assert session.exec(select(func.count()).select_from(FaqCluster)).one() == 0


# --- a real PostgreSQL server -------------------------------------------------------------------------------


@pytest.mark.integration
def test_two_draft_pending_at_once_leave_one_draft_per_post_on_postgres(pg_server, monkeypatch):
    url = fresh_database(pg_server, "drafts_race")
    needing_replies(url, 30)
    assert race_draft_pending(url, monkeypatch) == [30, 0]
    assert open_drafts_per_post(url) == [1]


@pytest.mark.integration
def test_two_processes_migrating_one_fresh_postgres_database_both_succeed(pg_server):
    url = fresh_database(pg_server, "migrate_race")
    done = _together([[*_kikimimi(), "db", "upgrade"]] * 2, url)
    assert [p.returncode for p in done] == [0, 0], [p.stderr[-500:] for p in done]
    with create_engine(url).connect() as conn:
        kinds = dict(
            conn.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_name IN ('analysis', 'post') AND column_name IN ('model_versions', 'raw')"
                )
            ).all()
        )
        assert kinds == {"model_versions": "jsonb", "raw": "json"}  # a payload is kept exactly as it came
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []  # models and migrations agree on PostgreSQL too


@pytest.mark.integration
def test_two_runs_started_together_on_one_fresh_postgres_database_both_succeed(pg_server, tmp_path):
    url = fresh_database(pg_server, "runs_race")
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(BUNDLED_FEED.read_text(encoding="utf-8").splitlines(keepends=True)[:120]), encoding="utf-8")
    config = tmp_path / "kikimimi.toml"
    example = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    config.write_text(
        example.replace('sources = ["sample"]', f'sources = ["sample"]\nsample_feed = "{feed}"'), encoding="utf-8"
    )
    done = _together([[*_kikimimi(), "run", "--once", "--json", "--config", str(config)]] * 2, url)
    assert [p.returncode for p in done] == [0, 0], [p.stderr[-3000:] for p in done]
    reports = [json.loads(p.stdout) for p in done]
    with Session(get_engine(url)) as s:
        posts = s.exec(select(func.count()).select_from(Post)).one()
        analysed = s.exec(select(func.count()).select_from(Analysis)).one()
        drafts = s.exec(select(func.count()).select_from(ReplyDraft)).one()
        drafted_posts = s.exec(select(func.count(func.distinct(ReplyDraft.post_id)))).one()
    assert posts == 120 and analysed == posts  # every post stored once and analysed once
    assert drafts == drafted_posts > 0  # exactly one draft per post
    assert sum(r["drafted"] for r in reports) == drafts


def _kikimimi() -> list[str]:
    return [sys.executable, "-m", "kikimimi"]


def _together(commands: list[list[str]], url: str) -> list[subprocess.CompletedProcess]:
    """Start every command at once against `url` (on the test clock), wait for all."""
    env = os.environ | {"KIKIMIMI_DATABASE_URL": url, "KIKIMIMI_NOW": TEST_NOW.isoformat()}
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd in commands
    ]
    out = []
    for proc, cmd in zip(procs, commands, strict=True):
        stdout, stderr = proc.communicate(timeout=300)
        out.append(subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr))
    return out


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_a_statement_that_lost_a_deadlock_is_rolled_back_to_its_savepoint_and_run_again(session):
    from sqlalchemy.exc import OperationalError

    from kikimimi.db import retry_lost_races

    calls = []

    def work() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT ...", {}, _Deadlock("deadlock detected"))
        return "stored"

    assert retry_lost_races(session, work, what="storing authors") == "stored" and len(calls) == 2
    with pytest.raises(OperationalError):  # anything else is not retried
        retry_lost_races(session, lambda: (_ for _ in ()).throw(OperationalError("x", {}, ValueError("no"))), what="x")


def test_each_pass_indexes_only_the_posts_it_has_not_indexed(session):
    from kikimimi.search import index_posts, search_post_ids

    upsert_posts(session, [make_post(f"s{i}", text=f"送料はいくら {i}") for i in range(3)])
    session.commit()
    assert index_posts(session) == 3 and index_posts(session) == 0
    upsert_posts(session, [make_post("s9", text="送料無料ですか")])
    session.commit()
    assert index_posts(session) == 1 and len(search_post_ids(session, "送料")) == 4
