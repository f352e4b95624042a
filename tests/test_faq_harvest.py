"""FAQ harvest over the database: bilingual candidates, stable ids, the lead's decisions, exports, replies."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from kikimimi.cli import app
from kikimimi.models import Analysis, AuditEvent, FaqCluster, FaqMember, FaqStatus, Post, ReplyDraft, Role, User
from kikimimi.stats import stats
from listener.store import upsert_posts
from nlp_models.faq.summary import language_of
from responder import faq
from responder.drafting import draft_pending
from tests.conftest import make_post
from tests.test_faq_grouping import _paraphrases

LEAD = User(name="lea", role=Role.approver)  # a support lead: approvers decide FAQ entries

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _question(session, external_id: str, text: str, *, days_ago: float = 1.0, platform: str = "x") -> Post:
    lang = language_of(text)
    upsert_posts(
        session,
        [
            make_post(
                external_id,
                text=text,
                platform=platform,
                created_at=NOW - timedelta(days=days_ago),
                url=f"https://example.test/{external_id}",
            )
        ],
    )
    post = session.exec(select(Post).where(Post.external_id == external_id)).one()
    session.add(
        Analysis(
            post_id=post.id,
            language=lang,
            sentiment="neutral",
            sentiment_scores={"negative": 0.2, "neutral": 0.6, "positive": 0.2},
            intent="product_question",
            is_question=True,
            needs_reply=True,
        )
    )
    session.commit()
    return post


@pytest.fixture
def harvested(session):
    """The 48 hand-written EN/JA questions (8 needs) stored, analysed and refreshed into candidates."""
    texts, labels, _ = _paraphrases()
    gold = {}
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        post = _question(session, f"q{i}", text, days_ago=1 + (i % 10), platform=("x", "reddit", "bluesky")[i % 3])
        gold[post.id] = label
    faq.refresh(session)
    return session, gold


def _need_of(session, gold, cluster_id: int) -> str:
    members = session.exec(select(FaqMember.post_id).where(FaqMember.cluster_id == cluster_id)).all()
    known = [gold[m] for m in members if m in gold]  # questions added by a test have no gold need
    return max(set(known), key=known.count)


def _cluster_for(session, gold, need: str) -> faq.FaqCandidate:
    return next(c for c in faq.candidates(session, now=NOW) if _need_of(session, gold, c.id) == need)


def test_refresh_forms_one_candidate_per_need_in_both_languages(harvested):
    session, gold = harvested
    found = faq.candidates(session, now=NOW)
    assert 7 <= len(found) <= 10
    bilingual = [c for c in found if set(c.titles) == {"en", "ja"}]
    assert len(bilingual) >= 6
    pay = _cluster_for(session, gold, "payment_methods")
    assert pay.languages.keys() == {"en", "ja"}
    assert set(pay.platforms) <= {"x", "reddit", "bluesky"} and pay.size >= 5
    assert pay.examples[0].url.startswith("https://example.test/")
    assert pay.first_seen < pay.last_seen and pay.this_week + pay.last_week == pay.size
    assert pay.average_sentiment == 0.0 and pay.key_phrases


def test_ids_stay_stable_when_regrouping_with_new_questions(harvested):
    session, gold = harvested
    before = {c.id: _need_of(session, gold, c.id) for c in faq.candidates(session)}
    _question(session, "new-1", "can I pay by bank transfer or apple pay?", days_ago=0.1)
    _question(session, "new-2", "銀行振込で支払えますか？", days_ago=0.1)
    summary = faq.refresh(session)
    after = {
        c.id: _need_of(session, gold | _new_gold(session, "payment_methods"), c.id) for c in faq.candidates(session)
    }
    assert summary.created == 0 and summary.removed == 0
    assert after == before


def _new_gold(session, need: str) -> dict[int, str]:
    return {p.id: need for p in session.exec(select(Post).where(Post.external_id.startswith("new-")))}


def test_lead_decisions_survive_regrouping(harvested):
    session, gold = harvested
    pay = _cluster_for(session, gold, "payment_methods")
    sizes = _cluster_for(session, gold, "size_availability")
    faq.accept(session, pay.id, answer="We take cards, PayPal and konbini payment.", actor=LEAD)
    faq.rename(session, pay.id, "Payment methods / お支払い方法", actor=LEAD)
    faq.dismiss(session, sizes.id, actor=LEAD)
    newcomer = _question(session, "new-1", "do you accept paypal or only credit cards?", days_ago=0.1)
    faq.refresh(session)
    kept = session.get(FaqCluster, pay.id)
    assert (kept.status, kept.label) == (FaqStatus.accepted, "Payment methods / お支払い方法")
    assert kept.answer_en.startswith("We take cards") and kept.answer_en_by == "lea"
    assert session.get(FaqMember, newcomer.id).cluster_id == pay.id
    assert session.get(FaqCluster, sizes.id).status == FaqStatus.dismissed
    # a dismissed need does not come back as a fresh candidate
    others = [c for c in faq.candidates(session) if c.id != sizes.id]
    assert all(_need_of(session, gold, c.id) != "size_availability" for c in others)


def test_merge_then_split(harvested):
    session, gold = harvested
    a = _cluster_for(session, gold, "payment_methods")
    b = _cluster_for(session, gold, "size_availability")
    before = stats(session)["faq_clusters"]
    merged = faq.merge(session, a.id, [b.id], actor=LEAD)
    assert merged.size == a.size + b.size
    assert stats(session)["faq_clusters"] == before - 1  # the merged-away cluster is not counted
    ids = [c.id for c in faq.candidates(session)]
    assert a.id in ids and b.id not in ids
    faq.refresh(session)  # the merge survives re-grouping
    assert session.get(FaqCluster, a.id).size == a.size + b.size
    assert b.id not in [c.id for c in faq.candidates(session)]
    parts = faq.split(session, a.id, actor=LEAD)
    assert len(parts) == 2 and parts[0].id == a.id
    needs = [_need_of(session, gold, p.id) for p in parts]
    assert sorted(needs) == ["payment_methods", "size_availability"]


def test_exports_hold_accepted_entries_with_answers_only(harvested):
    session, gold = harvested
    pay = _cluster_for(session, gold, "payment_methods")
    shipping = _cluster_for(session, gold, "international_shipping")
    faq.accept(session, pay.id, answer="We take cards, PayPal and konbini payment.", actor=LEAD)
    faq.accept(session, shipping.id, actor=LEAD)  # accepted but no answer yet: not exportable
    md = faq.export(session, "md")
    assert md.startswith("# Frequently asked questions")
    assert "We take cards" in md and pay.titles["ja"] not in md  # no Japanese answer yet: no Japanese entry
    faq.attach_answer(session, pay.id, "カード、PayPal、コンビニ払いがご利用いただけます。", actor=LEAD)
    md = faq.export(session, "md")
    assert pay.titles["ja"] in md and "コンビニ払いがご利用" in md
    faq.attach_answer(session, pay.id, "", actor=LEAD, language="ja")
    rows = list(csv.DictReader(io.StringIO(faq.export(session, "csv"))))
    assert [int(r["id"]) for r in rows] == [pay.id]
    assert rows[0]["title_ja"] == pay.titles["ja"] and rows[0]["answer_en"].startswith("We take")
    assert rows[0]["answer_ja"] == "" and rows[0]["accepted_by"] == "lea"
    data = json.loads(faq.export(session, "json"))
    assert data[0]["titles"] == {"en": pay.titles["en"], "ja": pay.titles["ja"]} and data[0]["asked"] == pay.size
    assert data[0]["answers"] == {"en": "We take cards, PayPal and konbini payment.", "ja": None}
    with pytest.raises(faq.FaqError):
        faq.export(session, "pdf")


def test_accepted_answer_becomes_the_reply_for_a_later_question_in_its_language(harvested):
    session, gold = harvested
    shipping = _cluster_for(session, gold, "international_shipping")
    faq.accept(session, shipping.id, answer="We ship to 40 countries; see komorebi.example/shipping.", actor=LEAD)
    later_ja = _question(session, "later-ja", "日本から海外へ発送してもらえますか？", days_ago=0)
    assert faq.place_new_questions(session) == 1
    assert session.get(FaqMember, later_ja.id).cluster_id == shipping.id
    draft_pending(session)
    draft = session.exec(select(ReplyDraft).where(ReplyDraft.post_id == later_ja.id)).one()
    assert "We ship to 40 countries" not in draft.text  # never an English answer in a Japanese reply
    faq.attach_answer(session, shipping.id, "40か国へ発送しています。詳細は komorebi.example/shipping", actor=LEAD)
    draft = session.exec(select(ReplyDraft).where(ReplyDraft.post_id == later_ja.id)).one()
    assert "40か国へ発送しています" in draft.text  # the untouched draft was re-drafted in Japanese
    later_en = _question(session, "later-en", "do you ship to Germany from Japan?", days_ago=0)
    faq.place_new_questions(session)
    draft_pending(session)
    draft = session.exec(select(ReplyDraft).where(ReplyDraft.post_id == later_en.id)).one()
    assert "We ship to 40 countries" in draft.text and "40か国" not in draft.text


def test_faq_cli_lists_and_exports(settings):
    from kikimimi.db import open_session

    with open_session(settings) as session:
        for i, text in enumerate(_paraphrases()[0][:12]):
            _question(session, f"c{i}", text)
    runner = CliRunner()
    refreshed = runner.invoke(app, ["faq", "refresh", "--json"])
    assert refreshed.exit_code == 0, refreshed.output
    assert json.loads(refreshed.output)["questions"] == 12
    listed = json.loads(runner.invoke(app, ["faq", "list", "--json"]).output)
    assert len(listed) >= 2 and all("growth" in c and "titles" in c for c in listed)
    with open_session(settings) as session:
        faq.accept(session, listed[0]["id"], answer="Track it at komorebi.example/track.", actor=LEAD)
    out = runner.invoke(app, ["faq", "export", "--format", "md"])
    assert out.exit_code == 0 and "komorebi.example/track" in out.output
    bad = runner.invoke(app, ["faq", "export", "--format", "pdf"])
    assert bad.exit_code != 0


def test_eval_faq_prints_the_scores(tmp_path):
    texts, labels, _ = _paraphrases()
    path = tmp_path / "mini.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    result = CliRunner().invoke(app, ["eval", "faq", str(path), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["n"] == 48 and {"n_clusters", "nmi", "ari", "accuracy", "seconds"} <= scores.keys()
    assert scores["nmi"] >= 0.8


def test_only_approvers_decide_faq_entries_and_every_decision_is_audited(harvested):
    from kikimimi.errors import PermissionDenied

    session, gold = harvested
    pay = _cluster_for(session, gold, "payment_methods")
    rin = User(name="rin", role=Role.responder)
    with pytest.raises(PermissionDenied, match="rin .*responder.* may not accept"):
        faq.accept(session, pay.id, actor=rin, answer="anything")
    session.rollback()
    assert session.get(FaqCluster, pay.id).status == FaqStatus.candidate
    faq.accept(session, pay.id, actor=LEAD, answer="Cards and konbini.")
    rows = session.exec(select(AuditEvent).where(AuditEvent.target_kind == "faq").order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action, e.target_id, e.outcome) for e in rows] == [
        ("rin", "faq_accept", str(pay.id), "refused"),
        ("lea", "faq_accept", str(pay.id), "allowed"),
    ]
    assert "may not accept" in rows[0].reason


def test_a_pass_places_new_questions_and_regroups_only_when_due(harvested, clock):
    session, gold = harvested
    shipping = _cluster_for(session, gold, "international_shipping")
    ids_before = sorted(c.id for c in session.exec(select(FaqCluster)))
    _question(session, "new1", "Can you ship my order overseas to Canada?", days_ago=0)
    _question(session, "new2", "what is the meaning of life", days_ago=0)  # close to no cluster
    step = faq.update(session, refresh_hours=6)  # the last full re-grouping ran just now: place only
    assert (step.questions, step.placed) == (2, 1) and step.created == 0
    assert session.get(FaqMember, session.exec(select(Post.id).where(Post.external_id == "new1")).one())
    assert sorted(c.id for c in session.exec(select(FaqCluster)).all()) == ids_before
    session.expire_all()
    assert session.get(FaqCluster, shipping.id).size == shipping.size + 1
    again = faq.update(session, refresh_hours=6)  # nothing new: nothing embedded, nothing placed
    assert (again.questions, again.placed) == (0, 0)
    clock.advance(timedelta(hours=7))
    assert faq.update(session, refresh_hours=6).questions == len(gold) + 2  # due: every question re-grouped


def test_a_new_encoder_considers_every_unplaced_question_again(harvested, monkeypatch):
    session, _ = harvested
    _question(session, "odd", "what is the meaning of life", days_ago=0)  # close to no cluster
    assert faq.update(session, refresh_hours=6).questions == 1
    assert faq.update(session, refresh_hours=6).questions == 0  # seen once: not embedded again
    members = set(session.exec(select(FaqMember.post_id)))
    unplaced = [pid for pid in session.exec(select(Analysis.post_id).where(Analysis.is_question)) if pid not in members]
    assert unplaced
    monkeypatch.setattr(faq, "model_version", lambda: "another-encoder")
    assert faq.update(session, refresh_hours=6).questions == len(unplaced)
    assert faq.update(session, refresh_hours=6).questions == 0


def _members(session, cluster_id: int) -> set[str]:
    rows = session.exec(select(Post.text).join(FaqMember).where(FaqMember.cluster_id == cluster_id)).all()
    return set(rows)


def test_placement_keeps_a_named_service_out_of_another_services_cluster(harvested):
    session, gold = harvested
    pay = _cluster_for(session, gold, "payment_methods")
    assert session.get(FaqCluster, pay.id).name_counts["service"]["paypal"] >= 2
    _question(session, "new-paypay-en", "Can I pay with PayPay?", days_ago=0)
    _question(session, "new-paypay-ja", "PayPayで支払えますか", days_ago=0)
    _question(session, "new-plain", "Which payment methods can I use?", days_ago=0)
    _question(session, "new-paypal", "can I pay using paypal", days_ago=0)
    faq.place_new_questions(session)
    session.expire_all()
    texts = _members(session, pay.id)
    assert {"Which payment methods can I use?", "can I pay using paypal"} <= texts  # the cluster still takes its own
    assert not any("PayPay" in t for t in texts)  # PayPal's cluster never takes PayPay
    assert session.get(FaqCluster, pay.id).name_counts["service"]["paypal"] >= 3


def test_regrouping_never_joins_a_named_service_to_a_decided_cluster_about_another(harvested):
    session, gold = harvested
    pay = _cluster_for(session, gold, "payment_methods")
    faq.accept(session, pay.id, answer="We take cards and PayPal.", actor=LEAD)  # decided: pinned
    for i, text in enumerate(
        ["Can I pay with PayPay?", "PayPayで支払えますか", "do you accept paypay?", "PayPay使えますか"]
    ):
        _question(session, f"new-{i}", text, days_ago=0)
    faq.refresh(session)
    session.expire_all()
    assert not any("PayPay" in t or "paypay" in t for t in _members(session, pay.id))
