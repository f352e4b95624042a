"""The FAQ page over the sample feed: a lead refreshes, accepts with an answer, merges, and exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dashboard.auth import sign_in_for_test
from kikimimi.db import open_session
from kikimimi.models import AuditEvent, FaqCluster, FaqStatus, Role, User
from kikimimi.settings import load_settings

PAGE = Path(__file__).parent.parent / "dashboard" / "views" / "faq.py"


@pytest.fixture
def sample_feed(sample_feed_run, monkeypatch):
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", sample_feed_run.database_url)
    return sample_feed_run


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def signed_in(name: str) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    with open_session(load_settings()) as s:
        sign_in_for_test(at, s.exec(select(User.id).where(User.name == name)).one())
    return at


def test_lead_refreshes_accepts_in_both_languages_merges_splits_and_exports(sample_feed):
    at = _run(signed_in("admin"))
    assert at.dataframe[0].value.shape[0] >= 2  # the pipeline's refresh formed candidates
    at.button(key="faq-refresh").click()
    _run(at)
    assert any(s.value.startswith("refresh:") for s in at.success)
    ids = list(at.selectbox(key="faq-open").options)
    assert len(ids) >= 2, "the sample feed should form at least two FAQ candidates"
    first = int(at.selectbox(key="faq-open").value)
    second = next(i for i in at.selectbox(key="faq-open").options if int(i.split(" ")[0].lstrip("#")) != first)
    second = int(second.split(" ")[0].lstrip("#"))

    at.text_area(key=f"faq-{first}-answer-en").set_value("Our tins are recyclable aluminium — rinse and recycle.")
    at.text_area(key=f"faq-{first}-answer-ja").set_value("缶はアルミ製でリサイクルできます。")
    at.button(key=f"accept-{first}").click()
    _run(at)
    assert any("accept: done" in s.value for s in at.success)

    at.multiselect(key=f"merge-{first}").set_value([second])
    _run(at)  # the Merge button is enabled once something is chosen, with a preview of the result
    assert any("After the merge" in m.value for m in at.markdown)
    at.button(key=f"merge-btn-{first}").click()
    _run(at)
    assert any("merge: done" in s.value for s in at.success)
    assert all(not o.startswith(f"#{second} ") for o in at.selectbox(key="faq-open").options)
    shown = at.text_input(key=f"faq-{first}-title-en").value
    with open_session(sample_feed) as s:
        kept = s.get(FaqCluster, first)
        assert kept.status == FaqStatus.accepted and kept.answer_en.startswith("Our tins")
        assert kept.answer_ja.startswith("缶はアルミ") and kept.answer_ja_by == "admin"
        assert s.get(FaqCluster, second).merged_into_id == first
        assert shown == kept.representatives["en"]  # the title box follows the merged entry's title

    pick = at.multiselect(key=f"split-pick-{first}")
    pick.set_value([pick.options[0]])
    _run(at)
    at.button(key=f"split-picked-{first}").click()
    _run(at)
    assert any("split: done" in s.value for s in at.success)
    assert any("admin · split" in c.value and "JST" in c.value for c in at.caption)  # who decided what, when

    assert any("1 accepted entries with answers" in c.value for c in at.caption)
    assert {b.key for b in at.get("download_button")} >= {"faq-download-md", "faq-download-csv", "faq-download-json"}


def test_a_responder_cannot_decide_faq_entries_from_the_page(sample_feed):
    with open_session(sample_feed) as s:
        s.add(User(name="rin", role=Role.responder))
        s.commit()
    at = _run(signed_in("rin"))
    first = next(int(b.key.split("-")[1]) for b in at.button if b.key and b.key.startswith("accept-"))
    assert at.dataframe[0].value.shape[0] >= 1  # a responder still sees the list
    at.button(key=f"accept-{first}").click()
    _run(at)
    assert any("rin (responder) may not accept FAQ entries" in e.value for e in at.error)
    with open_session(sample_feed) as s:
        assert s.get(FaqCluster, first).status == FaqStatus.candidate
        refusal = s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")).one()
        assert (refusal.actor, refusal.action, refusal.target_id) == ("rin", "faq_accept", str(first))
