"""The process `test_collect_kill` kills with SIGKILL: it polls Mastodon (a fake server on 127.0.0.1) in a loop
until the hashtag cursor reaches KILL_TEST_LAST, committing page by page as `kikimimi collect` does."""

from __future__ import annotations

import json
import os
import sys

from sqlmodel import Session, select

from kikimimi.db import get_engine
from kikimimi.models import Cursor
from kikimimi.settings import load_settings
from listener.runner import collect_pass


def main() -> int:
    settings = load_settings()
    last = os.environ["KILL_TEST_LAST"]
    engine = get_engine(settings.database_url)
    print("ready", flush=True)  # imports done: from here on a kill lands in collection
    for _ in range(100):
        with Session(engine, expire_on_commit=False) as session:
            collect_pass(session, settings, ["mastodon"])
            cursor = session.exec(select(Cursor).where(Cursor.platform == "mastodon")).first()
            if cursor is not None and json.loads(cursor.position or "{}").get("tag:komorebitea") == last:
                return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
