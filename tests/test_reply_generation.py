"""Generated reply suggestions, on a tiny random GPT-2 the test builds and saves locally (no hub)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from kikimimi.models import Analysis, FaqCluster, FaqMember, FaqStatus, Post, ReplyDraft, ReviewEvent
from kikimimi.settings import EXAMPLE_CONFIG, VoiceConfig, VoiceWords, load_settings
from listener.store import upsert_posts
from responder import workflow
from responder.generation import build_prompt, suggester
from responder.voice import lint_draft
from tests.conftest import make_post

WORDS = ["we", "will", "check", "your", "order", "today", "thanks", "for", "asking", "the", "tea", "ships", "soon"]


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    path = tmp_path_factory.mktemp("tiny-gpt2")
    vocab = {w: i for i, w in enumerate(["<unk>", "<eos>", *WORDS, ":", "."])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")
    config = transformers.GPT2Config(
        vocab_size=len(vocab), n_positions=1024, n_embd=16, n_layer=1, n_head=2, bos_token_id=1, eos_token_id=1
    )
    torch.manual_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _question(session):
    upsert_posts(session, [make_post("g1", text="@komorebi_tea when does the tea ship?")])
    post = session.exec(select(Post).where(Post.external_id == "g1")).one()
    session.add(
        Analysis(
            post_id=post.id,
            language="en",
            sentiment="neutral",
            intent="order_status",
            is_question=True,
            needs_reply=True,
        )
    )
    cluster = FaqCluster(label="shipping", status=FaqStatus.accepted, answer_en="Orders ship within two working days.")
    session.add(cluster)
    session.commit()
    session.add(FaqMember(post_id=post.id, cluster_id=cluster.id))
    session.commit()
    return post


def test_a_generated_suggestion_lands_as_a_linted_draft_for_a_person_to_approve(session, tiny_gpt2, users):
    from responder.drafting import draft_pending

    settings = load_settings(EXAMPLE_CONFIG).model_copy(
        update={"reply_model": str(tiny_gpt2), "reply_model_max_new_tokens": 20}
    )
    post = _question(session)
    draft_pending(session, brands=settings.brands, suggest=suggester(settings))
    draft = session.exec(select(ReplyDraft).where(ReplyDraft.post_id == post.id)).one()
    assert draft.state == "drafted" and draft.created_by == f"generator:{tiny_gpt2}"
    assert draft.template == f"generated:{tiny_gpt2}"
    assert draft.text.endswith("— Komorebi Tea") and lint_draft(session, draft, settings.brands) == []
    event = session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft.id)).one()
    assert (event.action, event.to_state, event.actor) == ("draft", "drafted", f"generator:{tiny_gpt2}")
    # nothing is approved but by a person allowed to
    approved = workflow.transition(session, draft, "approve", users["approver"])
    assert approved.approved_by == "aki"


def test_a_suggestion_that_breaks_the_voice_is_kept_out_and_the_template_stands(session):
    from responder.drafting import draft_pending

    class Rude:
        name = "rude"

        def __call__(self, prompt: str) -> str:
            return "Unfortunately you should have read the FAQ."

    settings = load_settings(EXAMPLE_CONFIG)
    post = _question(session)
    draft_pending(session, brands=settings.brands, suggest=suggester(settings, generate=Rude()))
    draft = session.exec(select(ReplyDraft).where(ReplyDraft.post_id == post.id)).one()
    assert draft.created_by == "system" and draft.template == "en/order_status.j2"
    assert "Orders ship within two working days." in draft.text  # the template, with the FAQ answer


def test_the_prompt_is_grounded_in_the_faq_answer_and_the_brand_voice():
    voice = VoiceConfig(
        honorific="様", emoji="never", ja=VoiceWords(avoid=["残念ながら"], use={"すみません": "申し訳ございません"})
    )
    prompt = build_prompt(
        post_text="送料はいくらですか？",
        language="ja",
        voice=voice,
        brand="Komorebi Tea",
        template_draft="お問い合わせありがとうございます！",
        faq_answer="5,000円以上で送料無料です。",
        parent_text="新作のお知らせです",
    )
    for part in (
        "Japanese",
        "様",
        "残念ながら",
        "“申し訳ございません” rather than “すみません”",
        "no emoji",
        "5,000円以上で送料無料です。",
    ):
        assert part in prompt, part
    assert "新作のお知らせです" in prompt and "送料はいくらですか？" in prompt


def test_no_model_configured_means_templates_only(settings):
    assert settings.reply_model is None and suggester(settings) is None  # nothing is loaded: no torch needed
