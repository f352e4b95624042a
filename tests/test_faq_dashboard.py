"""The FAQ page over the sample feed: a lead refreshes, accepts with an answer, merges, and exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kikimimi.models import FaqCluster, FaqStatus
from kikimimi.pipeline import open_session, run_once

PAGE = Path(__file__).parent.parent / "dashboard" / "views" / "faq.py"


@pytest.fixture
def sample_feed(settings, monkeypatch):
    run_once(settings)
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    return settings


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_lead_refreshes_accepts_merges_and_exports(sample_feed):
    at = _run(AppTest.from_file(str(PAGE), default_timeout=120))
    assert any(b.key and b.key.startswith("accept-") for b in at.button)  # the pipeline's refresh formed them
    at.button(key="faq-refresh").click()
    _run(at)
    assert any(s.value.startswith("refresh:") for s in at.success)
    ids = [int(b.key.split("-")[1]) for b in at.button if b.key and b.key.startswith("accept-")]
    assert len(ids) >= 2, "the sample feed should form at least two FAQ candidates"
    first, second = ids[0], ids[1]

    at.text_area(key=f"answer-{first}").set_value("Our tins are recyclable aluminium — rinse and recycle.")
    at.button(key=f"accept-{first}").click()
    _run(at)
    assert any("accept: done" in s.value for s in at.success)

    at.multiselect(key=f"merge-{first}").set_value([second])
    _run(at)  # the Merge button is enabled once something is chosen
    at.button(key=f"merge-btn-{first}").click()
    _run(at)
    assert any("merge: done" in s.value for s in at.success)
    assert not any(b.key == f"accept-{second}" for b in at.button)

    with open_session(sample_feed) as s:
        kept = s.get(FaqCluster, first)
        assert kept.status == FaqStatus.accepted and kept.answer.startswith("Our tins")
        assert s.get(FaqCluster, second).merged_into_id == first

    at.selectbox(key="faq-format").set_value("md")
    _run(at)
    assert any("1 accepted entries with answers" in c.value for c in at.caption)
