"""Each dashboard page rendered by Streamlit's AppTest over a demo database."""

import csv
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from kikimimi.models import Analysis, DraftState, Post, ReplyDraft, ReviewEvent, Role, User
from kikimimi.pipeline import open_session, run_once
from kikimimi.timeutil import as_utc, utcnow
from listener.sample_data import generate
from responder import sla

PAGES = Path(__file__).parent.parent / "dashboard"


@pytest.fixture
def demo(settings, monkeypatch):
    run_once(settings)
    with open_session(settings) as s:
        s.add(User(name="aki", role=Role.approver))
        s.add(User(name="rin", role=Role.responder))
        s.commit()
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    return settings


@pytest.fixture
def gold_sentiment(demo):
    """Set every analysis to the sample feed's own sentiment label, so the page is tested on known data."""
    meta = Path(__file__).parent.parent / "listener" / "sample_data" / "sample_feed_meta.csv"
    with meta.open(encoding="utf-8") as fh:
        gold = {(row["platform"], row["external_id"]): row["sentiment"] for row in csv.DictReader(fh)}
    with open_session(demo) as s:
        for post, analysis in s.exec(select(Post, Analysis).join(Analysis)):
            key = post.external_id.split("_", 1)[1] if post.platform == "reddit" else post.external_id
            analysis.sentiment = gold[(post.platform, key)]
            s.add(analysis)
        s.commit()
    return demo


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / "views" / f"{name}.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_queue_page_approves_a_draft(demo):
    at = page("queue")
    at.sidebar.selectbox(key="acting_user").set_value("aki").run()
    first_text = at.text_area[0]
    draft_id = int(first_text.key.split("-")[1])
    first_text.set_value(first_text.value + " 🍵")
    at.button(key=f"approve-{draft_id}").click().run()
    assert not at.exception and any("approve: done" in s.value for s in at.success)
    with open_session(demo) as s:
        draft = s.get(ReplyDraft, draft_id)
        assert draft.state == DraftState.approved and draft.approved_by == "aki" and draft.text.endswith(" 🍵")
        actions = s.exec(select(ReviewEvent.action).where(ReviewEvent.draft_id == draft_id)).all()
        assert actions == ["edit", "approve"]


def test_queue_page_refuses_approval_by_a_responder(demo):
    at = page("queue")
    at.sidebar.selectbox(key="acting_user").set_value("rin").run()
    draft_id = int(at.text_area[0].key.split("-")[1])
    at.button(key=f"approve-{draft_id}").click().run()
    assert any("may not approve" in e.value for e in at.error)
    with open_session(demo) as s:
        assert s.get(ReplyDraft, draft_id).state == DraftState.drafted


def test_queue_page_shows_analysis_and_replyability(demo):
    at = page("queue")
    text = " ".join(m.value for m in at.markdown)
    assert "intent" in text and "priority" in text and ("replyable" in text or "reply by hand" in text)
    assert len(at.text_area) == 10  # one page of drafts, most urgent first


def test_trends_page_calls_out_the_negative_spike(gold_sentiment):
    # The demo re-bases the feed by whole days to end before now; the spike keeps its place in the fortnight.
    with open_session(gold_sentiment) as s:
        last = s.exec(select(func.max(Post.created_at))).one()
    spike = generate.SPIKE_DAY.date() + (as_utc(last).date() - generate.END.date())
    at = page("trends")
    assert at.title[0].value == "Trends" and len(at.get("vega_lite_chart")) == 2
    assert any(f"Negative spike on {spike:%Y-%m-%d}" in w.value for w in at.warning), [w.value for w in at.warning]


def test_service_level_page(demo):
    at = page("service_level")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Response rate"].endswith("%")
    assert metrics["Median first response"].endswith(("min", "h"))
    assert len(at.get("vega_lite_chart")) == 3  # ladder, daily FRT, staffing heat map


def test_faq_page(demo):
    at = page("faq")
    assert at.title[0].value == "FAQ harvest"


def test_entry_point_opens_the_queue(demo):
    at = AppTest.from_file(str(PAGES / "app.py"), default_timeout=60).run()
    assert not at.exception and at.title[0].value == "Reply queue"


def test_demo_faq_cards_count_this_weeks_questions_whatever_the_date(settings, clock, monkeypatch):
    # Months after the bundled feed's fortnight, the demo is re-based to end before now: "this week" is this week.
    clock.advance(timedelta(days=200))
    run_once(settings)
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    at = page("faq")
    weekly = [int(m) for m in re.findall(r"this week (\d+)", " ".join(md.value for md in at.markdown))]
    assert weekly and max(weekly) > 0, weekly


def test_demo_abandonment_counts_only_posts_older_than_the_target(demo, clock):
    with open_session(demo) as s:
        frame = sla.response_table(s)
    clock.set(frame["created_at"].max().to_pydatetime() + timedelta(minutes=30))  # the newest ask is 30 min old
    target = demo.service_levels.target
    k = sla.kpis(frame, demo.service_levels)
    old = frame["created_at"] < utcnow() - timedelta(minutes=target)
    assert 0 < k.past_target == int(old.sum()) < len(frame)
    assert k.abandonment_rate == round(int((frame["frt_minutes"].isna() & old).sum()) / k.past_target, 4)
    at = page("service_level")
    tile = next(m for m in at.metric if m.label == "Abandoned")
    assert f"of the {k.past_target} posts older than the {target}-minute target" in tile.help
