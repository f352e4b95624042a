"""Posting trials: does every approval become exactly one reply when workers die, race and lose answers?

    python -m responder.trials --trials 100 --scenario lagging|second-worker|three-workers|lost-answer|all

Each trial makes a fresh database with a few approved drafts and a fresh fake platform (`FilePlatform`, whose
replies live in a file so they survive kill -9), starts worker processes that run `post_approved` against them
(some killed with SIGKILL at a random moment, some started while another is mid-post), then finishes the job
as an operator would: a recovery worker runs until nothing is in flight, a person presses Retry on every draft
that reconciliation showed was not posted, and the worker runs again. Then it counts, per draft, the replies
on the platform: a **double** is a draft with more than one; a **lost approval** is an approved draft that
ends without exactly one reply recorded as its `posted_external_id`.

Scenarios (seeded; times are scaled down so that 100 trials take minutes):

- lagging: one worker, killed at a random moment while posting; the platform's lookup lags.
- second-worker: a second worker starts while the first is mid-post (the first is killed in half the trials).
- three-workers: the same with three workers.
- lost-answer: two workers; the platform loses 40% of answers after creating the reply and fails 20% of
  calls before creating anything; the lookup lags.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from kikimimi.db import get_engine, migrate
from kikimimi.models import Author, DraftState, Post, ReplyDraft, ReviewEvent, Role, User
from responder.fake_platform import FilePlatform
from responder.posting import LookupPolicy, idempotency_key, post_approved
from responder.workflow import transition

DRAFTS_PER_TRIAL = 3
LEASE_SECONDS = 0.8  # scaled down from minutes: a dead worker's drafts are picked up after this
LOOKUP_MARGIN_SECONDS = 0.3  # the lookup waits out the platform's lag plus this
PASS_PAUSE_SECONDS = 0.05
WORKER_DEADLINE_SECONDS = 20.0
SETTLED = frozenset({DraftState.posted, DraftState.not_posted, DraftState.failed})


@dataclass(frozen=True)
class Scenario:
    workers: int = 1
    kill_probability: float = 0.0  # the first worker is killed with SIGKILL at a random moment
    kill_window: float = 0.4  # ... within this many seconds of its start (its 3 drafts take about 0.5 s)
    stagger: float = 0.0  # later workers start at a random moment within this many seconds
    lag: float = 0.0
    latency: float = 0.15
    lose_answer: float = 0.0
    fail_before: float = 0.0


SCENARIOS = {
    "lagging": Scenario(workers=1, kill_probability=1.0, lag=0.4),
    "second-worker": Scenario(workers=2, kill_probability=0.5, stagger=0.4, lag=0.3),
    "three-workers": Scenario(workers=3, kill_probability=0.5, stagger=0.4, lag=0.3),
    "lost-answer": Scenario(workers=2, stagger=0.2, lag=0.3, lose_answer=0.4, fail_before=0.2),
}


@dataclass
class Tally:
    scenario: str
    trials: int = 0
    approvals: int = 0
    doubles: int = 0
    lost_approvals: int = 0
    kills: int = 0
    kills_mid_post: int = 0  # ... that left a draft in `posting` (the worker died holding a lease)
    unknown_outcomes: int = 0  # drafts that went through `unknown`
    reconciled_posted: int = 0  # ... and a lookup found the reply
    retried_after_lookup: int = 0  # ... and a lookup showed nothing: a person pressed Retry
    worker_crashes: int = 0  # a worker process that exited with an error (not killed by us)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("trials", "approvals", "doubles", "lost_approvals", "kills", "kills_mid_post", "unknown_outcomes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.reconciled_posted += other.reconciled_posted
        self.retried_after_lookup += other.retried_after_lookup
        self.worker_crashes += other.worker_crashes
        self.failures += other.failures


def _platform(path: Path, scenario: Scenario, seed: int) -> FilePlatform:
    return FilePlatform(
        path,
        lag=scenario.lag,
        latency=scenario.latency,
        lose_answer=scenario.lose_answer,
        fail_before=scenario.fail_before,
        seed=seed,
    )


def _policy(scenario: Scenario) -> LookupPolicy:
    return LookupPolicy(
        lag_seconds=scenario.lag + LOOKUP_MARGIN_SECONDS, first_delay=0.05, max_delay=0.2, max_attempts=40
    )


def _work_left(session: Session) -> bool:
    states = {DraftState.approved.value, DraftState.posting.value, DraftState.unknown.value}
    session.commit()
    return session.exec(select(ReplyDraft.id).where(col(ReplyDraft.state).in_(states))).first() is not None


def work_until_settled(url: str, platform: FilePlatform, scenario: Scenario, deadline: float) -> None:
    """Run posting passes until nothing is approved, in flight or unknown (or the deadline passes)."""
    engine = get_engine.__wrapped__(url)  # type: ignore[attr-defined] # a fresh engine: never one shared across fork
    try:
        with Session(engine, expire_on_commit=False) as session:
            while time.monotonic() < deadline:
                post_approved(
                    session,
                    {platform.platform: platform},
                    live=True,
                    lease_seconds=LEASE_SECONDS,
                    lookup=_policy(scenario),
                )
                if not _work_left(session):
                    return
                time.sleep(PASS_PAUSE_SECONDS)
    finally:
        engine.dispose()


def _worker_main(url: str, platform_path: str, scenario: Scenario, seed: int) -> None:
    work_until_settled(url, _platform(Path(platform_path), scenario, seed), scenario, time.monotonic() + 15)


def _seed_database(url: str) -> list[int]:
    migrate(url)
    engine = get_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        approver = User(name="aki", role=Role.approver)
        author = Author(platform="x", external_id="u1", handle="mika")
        session.add_all([approver, author])
        session.commit()
        drafts = []
        for i in range(DRAFTS_PER_TRIAL):
            post = Post(
                platform="x",
                external_id=f"post-{i}",
                text=f"where is my order {i}?",
                author_id=author.id,  # type: ignore[arg-type]
                created_at=datetime(2026, 11, 3, 9, i, tzinfo=UTC),
                replyable=True,
                replyable_reason="mentioned us",
            )
            session.add(post)
            session.commit()
            draft = ReplyDraft(post_id=post.id, text=f"Hi Mika, order {i} ships today.")  # type: ignore[arg-type]
            session.add(draft)
            session.commit()
            transition(session, draft, "approve", approver)
            session.commit()
            drafts.append(draft.id)
    engine.dispose()
    return drafts  # type: ignore[return-value]


def run_trial(name: str, seed: int, workdir: Path) -> Tally:
    """One trial of scenario `name`, in a fresh database and platform under `workdir`."""
    scenario = SCENARIOS[name]
    rng = random.Random(seed)
    tally = Tally(scenario=name, trials=1, approvals=DRAFTS_PER_TRIAL)
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'kikimimi.sqlite3'}"
    platform_path = workdir / "platform.sqlite3"
    draft_ids = _seed_database(url)
    _platform(platform_path, scenario, seed)  # creates the platform's file before any worker forks
    # The schedule: worker 0 starts now; from its first claim, the others start within `stagger`, and worker 0
    # may be killed within `kill_window` (a kill before it claimed anything would test nothing).
    events = [(0.0, "start", 0)] + [(rng.uniform(0, scenario.stagger), "start", i) for i in range(1, scenario.workers)]
    if rng.random() < scenario.kill_probability:
        events.append((rng.uniform(0, scenario.kill_window), "kill", 0))
    fork = multiprocessing.get_context("fork")
    processes: dict[int, multiprocessing.process.BaseProcess] = {}
    start = begun = time.monotonic()
    for at, what, i in sorted(events, key=lambda e: (e[0], e[1] == "kill")):
        time.sleep(max(0.0, start + at - time.monotonic()))
        if what == "start":
            processes[i] = fork.Process(target=_worker_main, args=(url, str(platform_path), scenario, seed * 10 + i))
            processes[i].start()
            if i == 0:  # on a loaded machine a worker can take longer to start than the whole kill window
                _wait_for_first_claim(url, processes[0], time.monotonic() + WORKER_DEADLINE_SECONDS)
                start = time.monotonic()
        elif processes[i].is_alive():
            os.kill(processes[i].pid, signal.SIGKILL)  # type: ignore[arg-type]
            processes[i].join()
            tally.kills += 1
            tally.kills_mid_post += _in_posting(url)
    for process in processes.values():
        process.join(WORKER_DEADLINE_SECONDS)
        if process.is_alive():
            process.kill()
            tally.failures.append(f"seed {seed}: a worker did not finish in {WORKER_DEADLINE_SECONDS:.0f}s")
        elif process.exitcode not in (0, -signal.SIGKILL):
            tally.worker_crashes += 1
            tally.failures.append(f"seed {seed}: a worker exited with {process.exitcode}")
    # The operator's part: a recovery worker, then Retry on what reconciliation showed was not posted.
    recovery = _platform(platform_path, scenario, seed * 10 + 9)
    for _ in range(5):
        work_until_settled(url, recovery, scenario, time.monotonic() + WORKER_DEADLINE_SECONDS)
        if not _retry_not_posted(url):
            break
    _count(url, recovery, draft_ids, tally, seed)
    tally.seconds = time.monotonic() - begun
    return tally


def _wait_for_first_claim(url: str, worker: multiprocessing.process.BaseProcess, deadline: float) -> None:
    """Until `worker` has moved a draft out of `approved` (or has exited, or the deadline passes)."""
    engine = get_engine.__wrapped__(url)  # type: ignore[attr-defined] # polled from the parent only
    try:
        with Session(engine) as session:
            while worker.is_alive() and time.monotonic() < deadline:
                claimed = select(ReplyDraft.id).where(ReplyDraft.state != DraftState.approved)
                if session.exec(claimed).first() is not None:
                    return
                session.rollback()
                time.sleep(0.005)
    finally:
        engine.dispose()


def _in_posting(url: str) -> int:
    with Session(get_engine(url)) as session:
        return int(
            session.exec(select(ReplyDraft.id).where(ReplyDraft.state == DraftState.posting)).first() is not None
        )


def _retry_not_posted(url: str) -> int:
    with Session(get_engine(url), expire_on_commit=False) as session:
        person = session.exec(select(User).where(User.name == "aki")).one()
        waiting = session.exec(select(ReplyDraft).where(ReplyDraft.state == DraftState.not_posted)).all()
        for draft in waiting:
            transition(session, draft, "retry", person, note="a person pressed Retry after the lookup")
        session.commit()
        return len(waiting)


def _count(url: str, platform: FilePlatform, draft_ids: list[int], tally: Tally, seed: int) -> None:
    per_key = platform.replies_per_key()
    with Session(get_engine(url), expire_on_commit=False) as session:
        for draft_id in draft_ids:
            draft = session.get(ReplyDraft, draft_id)
            assert draft is not None
            key = idempotency_key(draft)
            actions = [e.action for e in session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft_id))]
            tally.unknown_outcomes += int(any(a in ("mark_unknown", "lease_expired") for a in actions))
            tally.reconciled_posted += int("confirm_posted" in actions)
            tally.retried_after_lookup += int("retry" in actions)
            replies = per_key[key]
            if replies > 1:
                tally.doubles += 1
                tally.failures.append(f"seed {seed}: draft {draft_id} was posted {replies} times")
            if (
                replies < 1
                or draft.state != DraftState.posted
                or draft.posted_external_id not in platform.reply_ids(key)
            ):
                tally.lost_approvals += 1
                tally.failures.append(
                    f"seed {seed}: draft {draft_id} ended {draft.state} with {replies} replies"
                    f" (recorded {draft.posted_external_id})"
                )
    get_engine(url).dispose()


def run_scenario(name: str, trials: int, seed: int, workdir: Path, progress: bool = False) -> Tally:
    total = Tally(scenario=name)
    start = time.monotonic()
    for i in range(trials):
        total.add(run_trial(name, seed + i, workdir / f"{name}-{seed + i}"))
        if progress:
            print(f"\r{name}: {i + 1}/{trials}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    total.seconds = time.monotonic() - start
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(message)s")  # the workers' warnings are expected here
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    tallies = []
    with tempfile.TemporaryDirectory(prefix="kikimimi-trials-") as tmp:
        for name in names:
            tallies.append(run_scenario(name, args.trials, args.seed, Path(tmp), progress=not args.json))
    if args.json:
        print(json.dumps([asdict(t) for t in tallies], indent=2))
    else:
        head = (
            "scenario",
            "trials",
            "approvals",
            "doubles",
            "lost",
            "kills",
            "mid-post",
            "unknown",
            "found",
            "retried",
            "secs",
        )
        print("  ".join(f"{h:>9}" for h in head))
        for t in tallies:
            row = (
                t.scenario,
                t.trials,
                t.approvals,
                t.doubles,
                t.lost_approvals,
                t.kills,
                t.kills_mid_post,
                t.unknown_outcomes,
                t.reconciled_posted,
                t.retried_after_lookup,
                f"{t.seconds:.0f}",
            )
            print("  ".join(f"{v:>9}" for v in row))
            for failure in t.failures[:10]:
                print(f"    {failure}")
    return 1 if any(t.doubles or t.lost_approvals or t.worker_crashes for t in tallies) else 0


if __name__ == "__main__":
    raise SystemExit(main())
