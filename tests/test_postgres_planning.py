"""What PostgreSQL plans with: every connection the project opens (kikimimi.db.get_engine) and the statistics
migration 0020 gives the planner about a pass's new work."""

from __future__ import annotations

import pytest

from kikimimi.db import get_engine
from tests.postgres_server import required_postgres


@pytest.fixture(scope="module")
def server():  # noqa: ANN201
    with required_postgres() as url:
        yield url


def test_connections_run_without_jit_unless_the_url_sets_options(server):
    ours = get_engine(server)
    with ours.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"  # no compile time on a page's statement
    ours.dispose()
    operators = get_engine(f"{server}&options=-c%20jit%3Don%20-c%20work_mem%3D8MB")
    with operators.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar_one() == "on"
        assert conn.exec_driver_sql("SHOW work_mem").scalar_one() == "8MB"
    operators.dispose()


def test_the_planner_expects_the_few_unchecked_questions_not_a_fifth_of_all_analyses(server):
    from kikimimi.commands.scale_data import build

    built = build(server, 600)  # every question placed and checked; the other analyses unchecked, as a pass leaves
    analyses = built.counts["analysis"]

    def expected(where: str) -> tuple[float, int]:
        with get_engine(server).connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT post_id FROM analysis WHERE {where}")
            top = plan.scalar_one()[0]["Plan"]
            return top["Plan Rows"], top["Actual Rows"]

    faq_guess, faq_found = expected("is_question AND NOT is_spam AND NOT faq_checked")
    draft_guess, draft_found = expected("needs_reply AND NOT draft_checked")
    assert faq_found == draft_found == 0
    # without the statistics: 0.7 unchecked x 0.3 questions of every analysis (126 of 600 here)
    assert faq_guess <= 5 and draft_guess <= 5, (faq_guess, draft_guess, analyses)
    with get_engine(server).connect() as conn:
        names = {n for (n,) in conn.exec_driver_sql("SELECT stxname FROM pg_statistic_ext")}
    assert {"st_analysis_faq_work", "st_analysis_draft_work"} <= names
