"""Working the queue as a team: assignment, soft edit locks (checked again at approval), internal notes,
corrections of an analysis and their export for retraining, and the queue's filters over them."""

import csv
from datetime import timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from dashboard import queries
from kikimimi.cli import app
from kikimimi.errors import IllegalTransition, PermissionDenied
from kikimimi.models import Analysis, AnalysisCorrection, AuditEvent, DraftState, Post, ReplyDraft, Role, User
from listener.store import upsert_posts
from nlp_models.evaluation_sets import build
from responder import inbox, teamwork
from responder.workflow import transition
from tests.conftest import make_post

CASUAL_JA = next(csv.DictReader((build.HERE / "casual_ja.csv").open(encoding="utf-8")))["text"]


@pytest.fixture
def drafts(session, users):
    """Three analysed posts with a draft each (the third one's text is an evaluation set's)."""
    upsert_posts(
        session,
        [
            make_post("1", text="@komorebi where is my order?"),
            make_post("2", text="送料はいくらですか"),
            make_post("3", text=CASUAL_JA),
        ],
    )
    session.commit()
    made = []
    for post in session.exec(select(Post).order_by(Post.id)):
        session.add(
            Analysis(post_id=post.id, language="en", sentiment="neutral", intent="other", needs_reply=True, priority=1)
        )
        draft = ReplyDraft(post_id=post.id, text=f"Hi, about post {post.id}")
        session.add(draft)
        made.append(draft)
    session.commit()
    return made


def audited(session, action):
    return session.exec(
        select(AuditEvent.actor, AuditEvent.outcome).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def test_responders_take_posts_approvers_hand_them_out_viewers_neither(session, users, drafts):
    rin, aki, vera = users["responder"], users["approver"], users["viewer"]
    post_ids = [d.post_id for d in drafts]
    teamwork.assign(session, post_ids[0], "rin", rin)
    with pytest.raises(PermissionDenied, match="may not assign posts to others"):
        teamwork.assign(session, post_ids[1], "aki", rin)
    with pytest.raises(PermissionDenied):
        teamwork.assign(session, post_ids[1], "vera", vera)
    with pytest.raises(IllegalTransition, match="not an active responder"):
        teamwork.assign(session, post_ids[1], "vera", aki)  # a viewer cannot work a post
    teamwork.assign(session, post_ids[1], "rin", aki)
    assert teamwork.assignees(session, post_ids) == {post_ids[0]: "rin", post_ids[1]: "rin"}
    with pytest.raises(PermissionDenied):
        teamwork.assign(session, post_ids[1], None, vera)
    mine = queries.queue_ids(session, queries.QueueFilter(assignee="rin"))
    nobody = queries.queue_ids(session, queries.QueueFilter(unassigned=True))
    assert mine == [drafts[0].id, drafts[1].id] and nobody == [drafts[2].id]
    assert [i.assignee for i in queries.queue(session, queries.QueueFilter(), sort="age")[0]] == ["rin", "rin", None]
    assert audited(session, "assign") == [
        ("rin", "allowed"),
        ("rin", "refused"),
        ("vera", "refused"),
        ("aki", "refused"),
        ("aki", "allowed"),
        ("vera", "refused"),
    ]


def test_an_edit_lock_warns_others_blocks_their_approval_and_expires(session, users, drafts, clock):
    rin, aki = users["responder"], users["approver"]
    draft = drafts[0]
    assert teamwork.open_for_edit(session, draft.id, rin, minutes=5).mine
    seen = teamwork.open_for_edit(session, draft.id, aki, minutes=5)
    assert (seen.mine, seen.holder) == (False, "rin")
    with pytest.raises(IllegalTransition, match="rin is editing this reply"):
        transition(session, draft, "approve", aki)
    session.rollback()
    assert session.get(ReplyDraft, draft.id).state == DraftState.drafted
    refusal = session.exec(select(AuditEvent).where(AuditEvent.action == "approve")).one()
    assert (refusal.actor, refusal.outcome, "rin is editing" in refusal.reason) == ("aki", "refused", True)
    clock.advance(timedelta(minutes=4))
    teamwork.open_for_edit(session, draft.id, rin, minutes=5)  # still working: renewed
    clock.advance(timedelta(minutes=4))
    assert teamwork.live_lock(session, draft.id).holder == "rin"
    clock.advance(timedelta(minutes=2))  # five minutes without activity: gone
    assert teamwork.live_lock(session, draft.id) is None
    assert teamwork.open_for_edit(session, draft.id, aki, minutes=5).mine
    transition(session, draft, "approve", aki)
    assert draft.state == DraftState.approved
    assert teamwork.open_for_edit(session, drafts[1].id, aki, minutes=5).mine  # one lock per person
    assert teamwork.live_lock(session, draft.id) is None


def test_a_viewer_takes_no_lock_and_the_holder_may_approve(session, users, drafts):
    vera, aki = users["viewer"], users["approver"]
    assert not teamwork.open_for_edit(session, drafts[0].id, vera, minutes=5).mine
    assert teamwork.live_lock(session, drafts[0].id) is None
    teamwork.open_for_edit(session, drafts[0].id, aki, minutes=5)
    transition(session, drafts[0], "approve", aki)
    assert drafts[0].state == DraftState.approved


def test_notes_by_the_team_only_and_audited(session, users, drafts):
    post_id = drafts[0].post_id
    teamwork.add_note(session, post_id, users["responder"], "  called the warehouse  ")
    with pytest.raises(PermissionDenied):
        teamwork.add_note(session, post_id, users["viewer"], "hi")
    with pytest.raises(IllegalTransition, match="a note needs"):
        teamwork.add_note(session, post_id, users["approver"], "   ")
    assert [(n.author, n.text) for n in teamwork.notes(session, post_id)] == [("rin", "called the warehouse")]
    assert audited(session, "add_note") == [("rin", "allowed"), ("vera", "refused"), ("aki", "refused")]


def test_corrections_keep_the_models_row_show_in_the_queue_and_filter_it(session, users, drafts, clock):
    rin, vera = users["responder"], users["viewer"]
    post_id = drafts[0].post_id
    inbox.correct_analysis(session, post_id, rin, {"intent": "order_status", "sentiment": "negative"})
    clock.advance(timedelta(minutes=1))
    made = inbox.correct_analysis(session, post_id, rin, {"sentiment": "positive", "intent": "order_status"})
    assert [(c.field, c.old_value, c.new_value) for c in made] == [("sentiment", "negative", "positive")]
    with pytest.raises(PermissionDenied):
        inbox.correct_analysis(session, post_id, vera, {"intent": "praise"})
    with pytest.raises(IllegalTransition, match="cannot correct"):
        inbox.correct_analysis(session, post_id, rin, {"intent": "shipping"})
    analysis = session.exec(select(Analysis).where(Analysis.post_id == post_id)).one()
    assert (analysis.intent, analysis.sentiment) == ("other", "neutral")  # the model's own row is untouched
    item = queries.drafts_by_id(session, [drafts[0].id])[0]
    assert (item.intent, item.sentiment, item.needs_reply) == ("order_status", "positive", True)
    assert queries.queue_ids(session, queries.QueueFilter(sentiments=("positive",))) == [drafts[0].id]
    assert queries.queue_ids(session, queries.QueueFilter(intents=("other",))) == [drafts[1].id, drafts[2].id]
    assert len(session.exec(select(AnalysisCorrection)).all()) == 3
    assert [o for _, o in audited(session, "correct_analysis")] == ["allowed"] * 3 + ["refused"] * 2


def test_export_corrections_writes_the_training_columns_and_never_an_evaluation_text(
    session, users, drafts, settings, tmp_path
):
    rin, aki = users["responder"], users["approver"]
    inbox.correct_analysis(session, drafts[0].post_id, rin, {"intent": "order_status"})
    inbox.correct_analysis(session, drafts[0].post_id, aki, {"needs_reply": False, "intent": "complaint"})
    inbox.correct_analysis(session, drafts[1].post_id, rin, {"sentiment": "negative"})
    inbox.correct_analysis(session, drafts[2].post_id, rin, {"sentiment": "negative"})  # an evaluation text
    out = tmp_path / "corrections.csv"
    result = CliRunner().invoke(app, ["export", "corrections", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == [
        "post_id",
        "platform",
        "language",
        "text",
        "addresses_brand",
        "needs_reply",
        "intent",
        "sentiment",
        "corrected_by",
        "corrected_at",
    ]
    assert [(r["text"], r["needs_reply"], r["intent"], r["sentiment"], r["corrected_by"]) for r in rows] == [
        ("@komorebi where is my order?", "0", "complaint", "", "aki"),  # the latest correction wins
        ("送料はいくらですか", "", "", "negative", "rin"),
    ]
    assert CASUAL_JA not in out.read_text(encoding="utf-8") and "1 left out" in result.output


def test_a_deactivated_person_cannot_be_assigned(session, users, drafts):
    session.add(User(name="old", role=Role.responder, active=False))
    session.commit()
    with pytest.raises(IllegalTransition):
        teamwork.assign(session, drafts[0].post_id, "old", users["approver"])
