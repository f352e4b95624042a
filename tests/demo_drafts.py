"""Print demo drafts in each language: `python -m tests.demo_drafts [N]`.

Runs the pipeline once on the bundled sample feed, in a throwaway data directory and at the test suite's fixed
instant, then prints N drafts per language (evenly spread over the drafted posts, in post order) with the
analysis each was chosen from. Uses only what every version of the project has, so it prints before and after.
"""

from __future__ import annotations

import os
import sys
import tempfile

os.environ["KIKIMIMI_DATA_DIR"] = tempfile.mkdtemp(prefix="kikimimi-demo-drafts-")

from sqlmodel import col, select  # noqa: E402 - the data directory is chosen before anything reads it

from kikimimi.db import open_session
from kikimimi.models import Analysis, Post, ReplyDraft  # noqa: E402
from kikimimi.pipeline import run_once  # noqa: E402
from kikimimi.settings import EXAMPLE_CONFIG, load_settings  # noqa: E402
from kikimimi.timeutil import Clock, using_clock  # noqa: E402
from tests.conftest import TEST_NOW  # noqa: E402


def main(n: int) -> None:
    with using_clock(Clock(TEST_NOW)):
        settings = load_settings(EXAMPLE_CONFIG)
        run_once(settings)
        with open_session(settings) as s:
            rows = s.exec(
                select(Post, Analysis, ReplyDraft)
                .join(Analysis, col(Analysis.post_id) == col(Post.id))
                .join(ReplyDraft, col(ReplyDraft.post_id) == col(Post.id))
                .order_by(col(Post.id))
            ).all()
    for language in ("en", "ja"):
        print(f"=== {language}")
        mine = [r for r in rows if r[1].language == language]
        for post, analysis, draft in mine[:: max(1, len(mine) // n)][:n]:
            print(f"- post: {' '.join(post.text.split())}")
            print(f"  ({analysis.sentiment}, {analysis.intent}, question={analysis.is_question}) -> {draft.template}")
            print(f"  draft: {draft.text}\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
