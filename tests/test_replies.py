"""The reply composer: template choice, brand voice, thread awareness, multi-part questions, and the demo feed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from kikimimi.db import open_session
from kikimimi.models import Analysis, AuthorCreate, Brand, ListeningQuery, Post, ReplyDraft, ReviewEvent
from kikimimi.settings import BrandConfig, VoiceConfig, VoiceWords
from listener.store import upsert_posts
from responder.drafting import choose_template, draft_pending, render_draft
from responder.limits import reply_length
from responder.parts import question_parts
from responder.voice import lint, lint_draft
from tests.conftest import make_post

APOLOGY = re.compile(r"sorry|申し訳|お詫び|apolog", re.IGNORECASE)
VOICE = VoiceConfig(
    honorific="様",
    formality="polite",
    emoji="not_on_negative",
    en=VoiceWords(use={"no worries": "happy to help"}, avoid=["unfortunately"], sign_off="— Komorebi Tea"),
    ja=VoiceWords(use={"すみません": "申し訳ございません"}, avoid=["残念ながら"], sign_off="（木漏れ日ティー）"),
)
MIKA = AuthorCreate(platform="x", external_id="u-mika", handle="mika", display_name="Mika Tanaka")
BRAND = AuthorCreate(platform="x", external_id="u-brand", handle="komorebi_tea", display_name="Komorebi Tea")


def _post(session, external_id, text, *, language="en", sentiment="neutral", intent="other", question=True, **post):
    upsert_posts(session, [make_post(external_id, text=text, **post)], query_id=post.pop("query_id", None))
    row = session.exec(select(Post).where(Post.external_id == external_id)).one()
    session.add(
        Analysis(
            post_id=row.id,
            language=language,
            sentiment=sentiment,
            intent=intent,
            is_question=question,
            needs_reply=not row.is_brand_reply,
        )
    )
    session.commit()
    return row


def _draft(session, post) -> ReplyDraft:
    return session.exec(select(ReplyDraft).where(ReplyDraft.post_id == post.id)).one()


@pytest.mark.parametrize(
    ("intent", "question", "sentiment", "template", "apologise"),
    [
        ("praise", False, "positive", "praise", False),
        ("order_status", True, "positive", "order_status", False),  # a happy question: its answer, no apology
        ("complaint", False, "positive", "praise", False),  # an old row that broke the rule: still no apology
        ("order_status", True, "negative", "order_status", True),  # a negative question: apology, then its answer
        ("complaint", True, "negative", "other", True),  # a question is never a complaint
        ("technical_issue", False, "negative", "complaint", True),  # asks nothing: the apology template
        ("order_status", False, "neutral", "order_status", False),  # a support turn that only gives data
    ],
)
def test_the_template_comes_from_intent_question_and_sentiment(intent, question, sentiment, template, apologise):
    choice = choose_template(intent, is_question=question, sentiment=sentiment)
    assert (choice.template, choice.apologise) == (template, apologise)


def test_a_negative_question_gets_its_topics_answer_with_the_apology_first():
    en, name = render_draft(
        intent="returns_refunds", language="en", display_name="Mika", is_question=True, sentiment="negative"
    )
    assert name == "en/returns_refunds.j2"
    assert re.match(r"Hi Mika, we're so sorry about this\. Please DM us your order number", en), en
    ja, name = render_draft(
        intent="order_status", language="ja", display_name="さくら", is_question=True, sentiment="negative", voice=VOICE
    )
    assert name == "ja/order_status.j2"
    assert ja.startswith("さくら様、お待たせしてしまい申し訳ございません。お手数ですが、ご注文番号") and ja.endswith(
        "（木漏れ日ティー）"
    )


def test_every_empathy_cue_is_acknowledged_but_a_problem_cue_is_not_read_into_praise():
    cues = [{"kind": "occasion:birthday", "span": "birthday"}, {"kind": "deadline", "span": "by friday"}]
    text, _ = render_draft(
        intent="order_status", language="en", display_name=None, cues=cues, is_question=True, sentiment="negative"
    )
    assert "birthday" in text and "deadline" in text
    unknown, _ = render_draft(
        intent="other", language="ja", display_name=None, cues=[{"kind": "new_kind", "span": "引っ越し"}]
    )
    assert "「引っ越し」" in unknown
    happy, _ = render_draft(
        intent="praise",
        language="en",
        display_name=None,
        cues=[{"kind": "repeated_problem", "span": "again"}],
        sentiment="positive",
    )
    assert not APOLOGY.search(happy) and "more than once" not in happy


def test_a_multi_part_question_gets_one_sentence_per_part():
    text = "@komorebi_tea Do you ship to Canada? And how long does delivery usually take? Can I pay with PayPal?"
    parts = question_parts(text, "en")
    assert parts == ["Do you ship to Canada", "how long does delivery usually take", "Can I pay with PayPal"]
    reply, _ = render_draft(
        intent="product_question", language="en", display_name="Mika", is_question=True, parts=parts, voice=VOICE
    )
    answered = re.findall(r"About “([^”]+)”: [^.?!]+[.?!]", reply)
    assert answered == parts, reply
    assert "PayPal”: Happy to help with your account" in reply  # each part answered on its own topic

    ja_parts = question_parts("送料はいくらですか？あと、ギフト包装はできますか？ #木漏れ日ティー", "ja")
    assert len(ja_parts) == 2
    ja, _ = render_draft(intent="product_question", language="ja", display_name=None, is_question=True, parts=ja_parts)
    assert ja.count("について：") == 2 and all(f"「{p}」について：" in ja for p in ja_parts)
    # one ask is one question: no part-by-part answer
    assert question_parts("where is my order?? placed it last week and no tracking yet", "en") == []


def test_the_faq_answer_goes_into_the_part_it_answers():
    parts = ["Do you ship to Canada", "Can I pay with PayPal"]
    reply, _ = render_draft(
        intent="order_status",
        language="en",
        display_name=None,
        is_question=True,
        parts=parts,
        faq_answer="Yes, we ship to Canada in 5–8 days.",
    )
    assert "About “Do you ship to Canada”: Yes, we ship to Canada in 5–8 days." in reply
    assert reply.count("we ship to Canada") == 1


def test_the_thread_order_number_is_not_asked_again_and_the_brand_does_not_repeat_itself(session):
    first = _post(
        session,
        "t1",
        "@komorebi_tea my parcel hasn't arrived, order #KT-55501",
        sentiment="negative",
        intent="order_status",
        thread_id="t1",
        author=MIKA,
    )
    _post(
        session,
        "t2",
        "@mika Hi Mika, we're sorry for the wait on your order. We'll look into it.",
        thread_id="t1",
        parent_external_id=first.external_id,
        is_brand_reply=True,
        author=BRAND,
        created_at=first.created_at + timedelta(minutes=5),
    )
    follow_up = _post(
        session,
        "t3",
        "@komorebi_tea any news?? still nothing",
        sentiment="negative",
        intent="order_status",
        thread_id="t1",
        parent_external_id="t2",
        author=MIKA,
        created_at=first.created_at + timedelta(hours=3),
    )
    fresh = _post(session, "f1", "@komorebi_tea where is my parcel??", sentiment="negative", intent="order_status")
    draft_pending(session)
    thread_reply = _draft(session, follow_up).text
    assert "KT-55501" in thread_reply and "order number" not in thread_reply, thread_reply
    assert "sorry for the wait on your order" not in thread_reply  # the brand said it already, in this thread
    assert thread_reply.startswith("Hi Mika, ")
    assert "DM us your order number" in _draft(session, fresh).text  # nobody gave one there
    assert session.exec(select(ReplyDraft).where(ReplyDraft.post_id == first.id)).first() is None  # answered


def test_the_brand_is_the_one_whose_query_matched_the_post(session):
    tea = Brand(name="Komorebi Tea")
    cups = Brand(name="Kumo Cups")
    session.add_all([tea, cups])
    session.commit()
    query = ListeningQuery(brand_id=cups.id, name="brand", key="k")
    session.add(query)
    session.commit()
    brands = [
        BrandConfig(name="Komorebi Tea", voice=VOICE),
        BrandConfig(name="Kumo Cups", voice=VoiceConfig(en=VoiceWords(sign_off="— Kumo"))),
    ]
    theirs = _post(session, "c1", "do you sell lids separately?", intent="product_question", query_id=query.id)
    ours = _post(session, "c2", "do you sell matcha whisks?", intent="product_question")
    draft_pending(session, brands=brands)
    assert _draft(session, theirs).text.endswith("— Kumo")
    assert _draft(session, ours).text.endswith("— Komorebi Tea")  # no query stored: the first brand


def test_the_lint_flags_an_edit_that_breaks_the_brand_voice(session):
    post = _post(session, "l1", "still no refund?!", sentiment="negative", intent="returns_refunds", language="ja")
    brands = [BrandConfig(name="Komorebi Tea", voice=VOICE)]
    draft_pending(session, brands=brands)
    draft = _draft(session, post)
    assert lint_draft(session, draft, brands) == []  # the composer's own draft passes
    edited = "Mikaさん、すみません、残念ながら返金はまだだよ🙏"
    codes = {f.code for f in lint_draft(session, draft, brands, text=edited)}
    assert codes == {"use", "avoid", "sign_off", "emoji", "honorific", "formality"}
    formal = VoiceConfig(formality="formal", emoji="never", en=VoiceWords(avoid=["ASAP"]))
    found = lint("Hey, we'll fix it ASAP 👍", formal, "en")
    assert [f.code for f in found] == ["avoid", "emoji", "formality"] and "we'll" in found[-1].message
    assert lint("Hello, we will fix it as soon as we can.", formal, "en") == []


def test_drafts_are_written_through_the_workflow(session):
    post = _post(session, "w1", "how do I reset my password?", intent="billing_account")
    draft_pending(session)
    draft = _draft(session, post)
    event = session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft.id)).one()
    assert (draft.state, event.action, event.from_state, event.to_state, event.actor) == (
        "drafted",
        "draft",
        None,
        "drafted",
        "system",
    )


def test_on_the_demo_feed_drafts_fit_their_voice_their_platform_and_their_sentiment(sample_feed_run):
    settings = sample_feed_run
    with open_session(settings) as s:
        rows = s.exec(
            select(Post, Analysis, ReplyDraft)
            .join(Analysis, Analysis.post_id == Post.id)
            .join(ReplyDraft, ReplyDraft.post_id == Post.id)
        ).all()
        assert len(rows) > 150
        positive = [d for _, a, d in rows if a.sentiment == "positive"]
        assert positive and [d.text for d in positive if APOLOGY.search(d.text)] == []
        assert [
            (d.text, lint_draft(s, d, settings.brands)) for *_, d in rows if lint_draft(s, d, settings.brands)
        ] == []
        assert [d.text for p, _, d in rows if reply_length(p.platform, d.text).over] == []
        negative_questions = [d for _, a, d in rows if a.sentiment == "negative" and a.is_question]
        assert len(negative_questions) > 20
        for draft in negative_questions:
            assert not draft.template.endswith("complaint.j2"), draft.template
            body = re.match(r"^(?:Hi [^,]+, |[^、]{1,16}様、)?(.*)", draft.text).group(1)
            assert APOLOGY.search(re.split(r"(?<=[.?!。？！])", body)[0]), draft.text  # the apology comes first
        given = next(d.text for p, _, d in rows if "order #KT-20418" in p.text)
        assert "KT-20418" in given and "DM us your order number" not in given
