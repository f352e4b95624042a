"""`.ci/run` runs the suite once under libfaketime. Its clock_nanosleep moves an absolute *monotonic* deadline by
the fake offset too, so every time.sleep fails with EINVAL; select's relative timeout is left alone. (Faking the
monotonic clock instead makes threading waits hang.) Imported by conftest and by the test's own subprocesses."""

from __future__ import annotations

import os
import select
import time


def _sleep(seconds: float) -> None:
    select.select([], [], [], max(0.0, seconds))


def patch_sleep() -> None:
    """Under libfaketime, make time.sleep wait with select (a no-op otherwise)."""
    if os.environ.get("FAKETIME") and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":
        time.sleep = _sleep
