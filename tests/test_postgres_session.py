"""What every PostgreSQL connection the project opens is set to (kikimimi.db.get_engine)."""

from __future__ import annotations

from kikimimi.db import get_engine
from tests.postgres_server import required_postgres


def test_connections_run_without_jit_unless_the_url_sets_options():
    with required_postgres() as url:
        ours = get_engine(url)
        with ours.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"  # no compile time on a page's statement
        ours.dispose()
        operators = get_engine(f"{url}&options=-c%20jit%3Don%20-c%20work_mem%3D8MB")
        with operators.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar_one() == "on"
            assert conn.exec_driver_sql("SHOW work_mem").scalar_one() == "8MB"
        operators.dispose()
