"""Time and clicks to clear the demo's "To do" queue: with bulk actions versus one reply at a time.

    python -m tests.measure_queue_clearing [--limit N]

Builds the demo database (the sample feed through the whole pipeline) in a temporary folder, twice, and drives the
queue page with Streamlit's AppTest as an approver: once approving every drafted reply by hand (open the next
row, press Approve), once with "all matching the filters" and the bulk Approve. Each click is one full rerun of
the page on the server, so the seconds are the server's work per click (no browser rendering, no reading).
`--limit N` stops the one-by-one pass after N replies and extrapolates to the whole queue.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from dashboard.auth import sign_in_for_test
from kikimimi import accounts, audit
from kikimimi.models import DraftState, ReplyDraft, Role
from kikimimi.settings import EXAMPLE_CONFIG, load_settings
from kikimimi.timeutil import Clock, using_clock
from tests.conftest import TEST_NOW

QUEUE = Path(__file__).resolve().parent.parent / "dashboard" / "views" / "queue.py"


def demo(folder: Path) -> int:
    """A fresh demo database in `folder` with an approver; returns the approver's id."""
    from kikimimi.db import open_session
    from kikimimi.pipeline import run_once

    os.environ["KIKIMIMI_DATA_DIR"] = str(folder)
    os.environ["KIKIMIMI_DATABASE_URL"] = f"sqlite:///{folder / 'demo.sqlite3'}"
    os.environ["KIKIMIMI_CONFIG"] = str(EXAMPLE_CONFIG)
    settings = load_settings(EXAMPLE_CONFIG)
    run_once(settings)
    with open_session(settings) as s:
        return accounts.add_user(s, audit.OPERATOR, "aki", Role.approver).id  # type: ignore[return-value]


def drafted() -> int:
    from kikimimi.db import open_session

    with open_session(load_settings(EXAMPLE_CONFIG)) as s:
        return s.exec(select(func.count()).where(ReplyDraft.state == DraftState.drafted)).one()


def page(user_id: int) -> AppTest:
    at = AppTest.from_file(str(QUEUE), default_timeout=120)
    sign_in_for_test(at, user_id)
    at.run()
    return at


def one_by_one(user_id: int, limit: int | None) -> tuple[int, int, float]:
    """(replies approved, clicks, seconds) approving the open reply, then opening the next row."""
    at, clicks, done = page(user_id), 0, 0
    start = time.perf_counter()
    while limit is None or done < limit:
        opened = at.session_state["queue-open"]
        approve = next((b for b in at.button if b.key == f"approve-{opened}"), None)
        if approve is None or at.session_state["queue-open"] is None:
            break
        approve.click().run()
        clicks, done = clicks + 1, done + 1
        rows = [b for b in at.button if b.key and b.key.startswith("open-") and b.key != f"open-{opened}"]
        listed = [b for b in rows if int(b.key.split("-")[1]) not in at.session_state["queue-handled"]]
        if not listed:
            break
        listed[0].click().run()
        clicks += 1
    return done, clicks, time.perf_counter() - start


def in_bulk(user_id: int) -> tuple[int, int, float]:
    at = page(user_id)
    start = time.perf_counter()
    at.radio(key="bulk-scope").set_value("all matching the filters").run()
    at.button(key="bulk-approve").click().run()
    seconds = time.perf_counter() - start
    message = next(m.value for m in at.success if m.value.startswith("Bulk approve"))
    return int(message.split(": ")[1].split(" done")[0]), 2, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="approve at most N replies one by one")
    limit = parser.parse_args().limit
    with using_clock(Clock(TEST_NOW)), tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        user = demo(Path(one))
        total = drafted()
        done, clicks, seconds = one_by_one(user, limit)
        left = drafted()
        scale = total / done if done else 0
        print(f"demo queue: {total} drafted replies")
        print(
            f"one by one: {done} approved with {clicks} clicks in {seconds:.1f} s"
            f" ({seconds / max(done, 1):.2f} s a reply; {left} left)"
            + (f"; whole queue ≈ {clicks * scale:.0f} clicks, {seconds * scale:.0f} s" if done < total else "")
        )
        user = demo(Path(two))
        done, clicks, seconds = in_bulk(user)
        print(f"in bulk: {done} approved with {clicks} clicks in {seconds:.1f} s ({drafted()} left)")


if __name__ == "__main__":
    main()
