"""Each dashboard page rendered by Streamlit's AppTest over a demo database."""

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from dashboard import queries, reports, trends_data
from dashboard.auth import sign_in_for_test
from kikimimi.db import open_session
from kikimimi.models import Analysis, AuditEvent, DraftState, Post, ReplyDraft, ReviewEvent, Role, User
from kikimimi.pipeline import run_once
from kikimimi.settings import load_settings
from kikimimi.timeutil import as_utc, utcnow
from listener.sample_data import generate
from responder import sla

PAGES = Path(__file__).parent.parent / "dashboard"


@pytest.fixture
def demo(sample_feed_run, monkeypatch):
    settings = sample_feed_run
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


def page(name: str, as_user: str | None = "aki") -> AppTest:
    """The page rendered for `as_user` (signed in through the documented AppTest hook), or for nobody."""
    at = AppTest.from_file(str(PAGES / "views" / f"{name}.py"), default_timeout=60)
    if as_user is not None:
        with open_session(load_settings()) as s:
            sign_in_for_test(at, s.exec(select(User.id).where(User.name == as_user)).one())
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_queue_page_approves_a_draft_and_the_card_shows_it_at_once(demo):
    at = page("queue")
    first_text = at.text_area[0]
    draft_id = int(first_text.key.split("-")[1])
    first_text.set_value(first_text.value + " 🍵")
    at.button(key=f"approve-{draft_id}").click().run()
    assert not at.exception and any(f"Reply #{draft_id}: approve done" in s.value for s in at.success)
    assert any(f"Reply #{draft_id} · approved" in m.value and "approved by aki" in m.value for m in at.markdown)
    keys = {b.key for b in at.button}
    assert f"approve-{draft_id}" not in keys and f"reject-{draft_id}" in keys  # no live Approve on an approved card
    with open_session(demo) as s:
        draft = s.get(ReplyDraft, draft_id)
        assert draft.state == DraftState.approved and draft.approved_by == "aki" and draft.text.endswith(" 🍵")
        actions = s.exec(select(ReviewEvent.action).where(ReviewEvent.draft_id == draft_id)).all()
        assert actions == ["draft", "edit", "approve"]  # written by the composer, then a person
        audited = s.exec(select(AuditEvent.actor, AuditEvent.action, AuditEvent.outcome)).all()
        assert ("aki", "approve", "allowed") in audited and ("aki", "edit", "allowed") in audited


def test_queue_page_refuses_approval_by_a_responder_and_audits_it(demo):
    at = page("queue", "rin")
    draft_id = int(at.text_area[0].key.split("-")[1])
    approve = at.button(key=f"approve-{draft_id}")
    assert "🔒" in approve.label  # shown locked; the stage function refuses the click
    at.text_area[0].set_value("rin's own words")
    approve.click().run()
    assert any("rin (responder) may not approve" in e.value for e in at.error)
    with open_session(demo) as s:
        draft = s.get(ReplyDraft, draft_id)
        assert draft.state == DraftState.drafted and draft.text != "rin's own words"  # nothing half-done
        refused = s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
        assert [(e.actor, e.action, e.target_id) for e in refused] == [("rin", "approve", str(draft_id))]


def test_reject_needs_a_reason_and_the_rejected_view_shows_it(demo):
    at = page("queue")
    draft_id = int(at.text_area[0].key.split("-")[1])
    at.button(key=f"reject-{draft_id}").click().run()
    assert any("say why the reply is rejected" in e.value for e in at.error)
    at.text_input(key=f"reason-{draft_id}").set_value("off-topic")
    at.button(key=f"reject-{draft_id}").click().run()
    assert any(f"Reply #{draft_id}: reject done" in s.value for s in at.success)
    at.radio(key="view").set_value("Rejected").run()
    assert any(f"Reply #{draft_id} · rejected" in m.value for m in at.markdown)
    with open_session(demo) as s:
        event = s.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft_id, ReviewEvent.action != "draft")).one()
        assert (event.action, event.note) == ("reject", "off-topic")


def test_a_responder_marks_a_reply_sent_by_hand(demo):
    at = page("queue", "rin")
    draft_id = int(at.text_area[0].key.split("-")[1])
    assert any(c.value for c in at.code)  # the reply, copyable
    at.text_input(key=f"hand-link-{draft_id}").set_value("https://x.com/komorebi_tea/status/77")
    at.button(key=f"mark_replied_by_hand-{draft_id}").click().run()
    with open_session(demo) as s:
        draft = s.get(ReplyDraft, draft_id)
        assert draft.state == DraftState.replied_by_hand and draft.hand_replied_by == "rin"
        assert draft.hand_reply_url == "https://x.com/komorebi_tea/status/77"
    assert any(f"Reply #{draft_id} · replied_by_hand" in m.value for m in at.markdown)


def test_bulk_approve_of_a_filtered_selection_checks_each_draft(demo):
    at = page("queue")
    at.multiselect(key="languages").set_value(["ja"]).run()
    at.multiselect(key="platforms").set_value(["mastodon"]).run()
    with open_session(demo) as s:
        matching = queries.queue_ids(
            s, **{"states": (DraftState.drafted,), "languages": ["ja"], "platforms": ["mastodon"]}
        )
    assert 1 < len(matching) < 60
    at.radio(key="bulk-scope").set_value("all matching the filters")
    at.button(key="bulk-approve").click().run()
    assert any(f"Bulk approve: {len(matching)} done, 0 refused" in s.value for s in at.success)
    with open_session(demo) as s:
        states = s.exec(select(ReplyDraft.state).where(ReplyDraft.id.in_(matching))).all()
        assert set(states) == {DraftState.approved}
        others = s.exec(select(func.count()).where(ReplyDraft.state == DraftState.approved)).one()
        assert others == len(matching)  # nothing outside the filters


def test_bulk_approve_by_a_viewer_is_refused_per_draft(demo):
    with open_session(demo) as s:
        s.add(User(name="vera", role=Role.viewer))
        s.commit()
    at = page("queue", "vera")
    ids = [int(c.key.split("-")[1]) for c in at.checkbox if c.key and c.key.startswith("sel-")][:3]
    for draft_id in ids:
        at.checkbox(key=f"sel-{draft_id}").check()
    at.button(key="bulk-approve").click().run()
    assert any("Bulk approve: 0 done, 3 refused" in e.value and "may not approve" in e.value for e in at.error)
    with open_session(demo) as s:
        refused = s.exec(select(AuditEvent.target_id).where(AuditEvent.outcome == "refused")).all()
        assert sorted(refused) == sorted(str(i) for i in ids)
        assert all(s.get(ReplyDraft, i).state == DraftState.drafted for i in ids)


def test_not_spam_rescue_survives_reanalysis(demo):
    from nlp_models.analyzer import get_analyzer
    from nlp_models.stage import analyse_pending

    at = page("queue", "rin")
    at.radio(key="view").set_value("Spam").run()
    rescue = next(b for b in at.button if b.key and b.key.startswith("notspam-"))
    post_id = int(rescue.key.split("-")[1])
    rescue.click().run()
    with open_session(demo) as s:
        post, analysis = s.get(Post, post_id), s.exec(select(Analysis).where(Analysis.post_id == post_id)).one()
        assert post.not_spam and not analysis.is_spam
        analysis.backend = "something older"  # make the next --redo re-analyse it
        s.add(analysis)
        s.commit()
        analyse_pending(s, get_analyzer("baseline"), redo=True)
        s.expire_all()
        assert not s.exec(select(Analysis).where(Analysis.post_id == post_id)).one().is_spam
    assert not any(b.key == f"notspam-{post_id}" for b in at.button)


def test_search_for_a_japanese_word_and_a_date_range(demo):
    at = page("queue")
    at.text_input(key="search").set_value("送料").run()
    shown = [m.value for m in at.markdown if "送料" in m.value]
    texts = [t.key for t in at.text_area]
    assert texts and len(shown) >= len(texts)  # every card's post says 送料
    with open_session(demo) as s:
        expected = queries.queue(s, states=(DraftState.drafted,), text="送料", limit=1000)[1]
        assert expected == len(queries.queue_ids(s, states=(DraftState.drafted,), text="送料"))
        assert 0 < expected < queries.queue(s, states=(DraftState.drafted,))[1]
    assert any(m.value.startswith(f"{expected} replies ·") for m in at.markdown)
    with open_session(demo) as s:
        items, _ = queries.queue(s, states=(DraftState.drafted,), text="送料", sort="age", limit=1)
        day = date.fromisoformat(queries.local_time(items[0].post.created_at, "Asia/Tokyo")[:10])
        since, until = queries.day_range(day, day, "Asia/Tokyo")
        that_day = queries.queue(s, states=(DraftState.drafted,), text="送料", since=since, until=until)[1]
    assert 0 < that_day < expected
    at.date_input(key="days").set_value((day, day)).run()
    assert not at.exception and any(m.value.startswith(f"{that_day} replies ·") for m in at.markdown)


def test_pages_need_sign_in(demo):
    at = page("queue", as_user=None)
    assert at.title[0].value == "Kikimimi — sign in" and not at.text_area


def test_queue_page_shows_analysis_and_replyability(demo):
    at = page("queue")
    text = " ".join(m.value for m in at.markdown)
    assert "intent" in text and "priority" in text and ("replyable" in text or "reply by hand" in text)
    rows = [b.key for b in at.button if b.key and b.key.startswith("open-")]
    assert len(rows) == 10 and len(at.text_area) == 1  # one page of drafts as rows; the first one open to edit
    with open_session(demo) as s:
        items, _ = queries.queue(s, states=(DraftState.drafted,), limit=10)
    assert rows == [f"open-{i.draft.id}" for i in items]  # most urgent first
    assert at.text_area[0].key.startswith(f"text-{items[0].draft.id}-")


def test_trends_page_calls_out_the_negative_spike(gold_sentiment):
    # The demo re-bases the feed by whole days to end before now; the spike keeps its place in the fortnight.
    with open_session(gold_sentiment) as s:
        last = s.exec(select(func.max(Post.created_at))).one()
    spike = generate.SPIKE_DAY.date() + (as_utc(last).date() - generate.END.date())
    at = page("trends")
    assert at.title[0].value == "Trends" and len(at.get("vega_lite_chart")) >= 5
    labels = [e.label for e in at.expander if "Negative spike" in e.label]  # the alerts' own detection
    assert len(labels) == 1 and f"{spike:%Y-%m-%d}" in labels[0], labels  # its window holds the spike day


def test_service_level_page(demo):
    at = page("service_level")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Response rate"].endswith("%")
    assert metrics["Median first response"].endswith(("min", "h"))
    assert len(at.get("vega_lite_chart")) == 3  # ladder, daily FRT, staffing heat map


def test_faq_page(demo):
    at = page("faq")
    assert at.title[0].value == "FAQ harvest"


def test_entry_point_signs_in_then_opens_the_queue(demo):
    from kikimimi import accounts

    with open_session(demo) as s:
        accounts.set_password(s, accounts.audit.OPERATOR, "aki", "correct horse battery")
    at = AppTest.from_file(str(PAGES / "app.py"), default_timeout=60).run()
    assert not at.exception and at.title[0].value == "Kikimimi — sign in"
    at.text_input(key="signin-name").set_value("aki")
    at.text_input(key="signin-password").set_value("wrong password")
    at.button[0].click().run()
    assert any("wrong name or password" in e.value for e in at.error)
    at.text_input(key="signin-password").set_value("correct horse battery")
    at.button[0].click().run()
    assert not at.exception and at.title[0].value == "Reply queue"
    assert any("Signed in as **aki**" in m.value for m in at.sidebar.markdown)
    at.sidebar.button(key="sign-out").click().run()
    assert at.title[0].value == "Kikimimi — sign in"


def test_demo_faq_cards_count_this_weeks_questions_whatever_the_date(settings, clock, monkeypatch):
    # Months after the bundled feed's fortnight, the demo is re-based to end before now: "this week" is this week.
    clock.advance(timedelta(days=200))
    run_once(settings)
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    at = page("faq", "admin")
    weekly = [int(m) for m in re.findall(r"this week \**(\d+)", " ".join(md.value for md in at.markdown))]
    assert weekly and max(weekly) > 0, weekly


def test_demo_abandonment_counts_only_posts_older_than_the_target(demo, clock):
    with open_session(demo) as s:
        newest = s.exec(select(func.max(Post.created_at)).join(Analysis).where(Analysis.needs_reply)).one()
        clock.set(as_utc(newest) + timedelta(minutes=30))  # the newest ask is 30 min old
        now = utcnow()
        window = trends_data.period(
            *trends_data.default_range(reports.local_today(now, "Asia/Tokyo"), 14), "Asia/Tokyo"
        )
        k = sla.kpis(s, sla.Scope(since=window.since, until=window.until), demo, now)  # the page's default period
    target = demo.service_levels.target
    assert 0 < k.past_target < k.needing_reply and k.abandoned <= k.past_target
    assert k.abandonment_rate == round(k.abandoned / k.past_target, 4)
    at = page("service_level")
    assert f"{k.abandoned} of the {k.past_target} posts older than the {target} min target" in [
        c.value for c in at.caption
    ]


def test_the_priority_walk_finds_the_same_pages_as_the_full_sort(demo, monkeypatch):
    from sqlmodel import Session

    from kikimimi.db import get_engine

    with Session(get_engine(demo.database_url)) as s:
        everything = [i.draft.id for i in queries.queue(s, states=(DraftState.drafted,), limit=10_000)[0]]
        assert len(everything) > 30
        monkeypatch.setattr(queries, "WALK_FROM", 0)  # every view walks the priority index now
        walked = []
        walk = queries._by_priority_walk
        monkeypatch.setattr(queries, "_by_priority_walk", lambda *a: walked.append(walk(*a)) or walked[-1])
        for offset in (0, 10, len(everything) - 5):
            items, total = queries.queue(s, states=(DraftState.drafted,), limit=10, offset=offset)
            assert total == len(everything) and [i.draft.id for i in items] == everything[offset : offset + 10]
        assert walked[0] is not None  # the first page came from the walk, not the plain sort
