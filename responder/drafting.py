"""Draft replies from editable Jinja2 templates, personalised per post (name, occasion, deadline, FAQ answer)."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from kikimimi.models import Analysis, Author, DraftState, FaqCluster, FaqMember, FaqStatus, Post, ReplyDraft, visible
from nlp_models.consistency import consistent_intent
from nlp_models.types import INTENTS

log = logging.getLogger(__name__)
PACKAGED_TEMPLATES = Path(__file__).with_name("templates")

# One acknowledgement per empathy cue kind, per language: the reply shows the customer we read the post.
ACKNOWLEDGEMENTS = {
    "en": {
        "occasion:anniversary": "We know this is for your anniversary, so we'll treat it as a priority.",
        "occasion:birthday": "We know it's for a birthday, so we'll do everything we can to get it there in time.",
        "occasion:gift": "Since it's a gift, we'll make sure it arrives looking its best.",
        "occasion:wedding": "Congratulations on the wedding — we'll make this right in time.",
        "deadline": "We've noted your deadline and will confirm whether we can meet it.",
        "first_purchase": "Thank you for choosing us for your first order.",
        "repeated_problem": "We're sorry this has happened more than once; we'll look into why.",
    },
    "ja": {
        "occasion:anniversary": "記念日のためのご注文とのこと、最優先で対応いたします。",
        "occasion:birthday": "お誕生日に間に合うよう、できる限りの対応をいたします。",
        "occasion:gift": "贈り物とのこと、きれいな状態でお届けできるよう努めます。",
        "occasion:wedding": "ご結婚おめでとうございます。間に合うよう対応いたします。",
        "deadline": "ご希望の期日を承知いたしました。間に合うか確認してご連絡します。",
        "first_purchase": "初めてのご注文、ありがとうございます。",
        "repeated_problem": "何度もご迷惑をおかけしており、原因を確認いたします。",
    },
}
_NOT_NAMES = {"the", "official", "mr", "mrs", "ms", "dr", "tea", "shop", "store", "team", "just", "not", "a"}
_LATIN_NAME = re.compile(r"^[A-Z][a-z]{1,14}$|^[a-z]{2,14}$")
_JA_NAME = re.compile(r"^[\u3040-\u30ff\u4e00-\u9fff々ー]{1,6}$")


def first_name(display_name: str | None, language: str) -> str | None:
    """A first name to greet by, when the display name plainly gives one; otherwise None (never guess wildly).

    Only the leading run of letters counts: 「ゆうき@在宅」 is ゆうき, "Mika | tea lover" is Mika.
    """
    if not display_name:
        return None
    start = 0
    while start < len(display_name) and not _is_name_char(display_name[start]):
        start += 1  # leading emoji, brackets, symbols
    end = start
    while end < len(display_name) and (_is_name_char(display_name[end])):
        end += 1
    token = display_name[start:end]
    if not token:
        return None
    match = _JA_NAME.match(token)
    if match:
        return f"{match.group(0)}さん"
    if _LATIN_NAME.match(token) and token.lower() not in _NOT_NAMES:
        name = token.capitalize()
        return f"{name}さん" if language == "ja" else name
    return None


def _is_name_char(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") or ch in "々ー"


@cache
def template_environment(override_dir: str | None = None) -> Environment:
    """Templates from the user's folder first (if configured), then the packaged ones."""
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loaders.append(FileSystemLoader(str(PACKAGED_TEMPLATES)))
    return Environment(
        loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


def render_draft(
    *,
    intent: str,
    language: str,
    display_name: str | None,
    cue_kinds: list[str],
    complaint: bool = False,
    brand: str = "",
    faq_answer: str | None = None,
    templates_dir: Path | None = None,
) -> tuple[str, str]:
    """Return (text, template name) for a post; Japanese posts get Japanese replies, anything else English.

    Templates see `complaint` (the post is negative) so one intent can answer a question and a problem differently.
    """
    lang = "ja" if language == "ja" else "en"
    env = template_environment(str(templates_dir) if templates_dir else None)
    name = f"{lang}/{intent if intent in INTENTS else 'other'}.j2"
    try:
        template = env.get_template(name)
    except TemplateNotFound:
        name = f"{lang}/other.j2"
        template = env.get_template(name)
    ack = [ACKNOWLEDGEMENTS[lang][k] for k in dict.fromkeys(cue_kinds) if k in ACKNOWLEDGEMENTS[lang]]
    text = template.render(
        name=first_name(display_name, lang), ack=ack, brand=brand, faq_answer=faq_answer, complaint=complaint
    )
    return " ".join(text.split()) if lang == "en" else text.strip(), name


def faq_answer_for(session: Session, post_id: int, language: str) -> str | None:
    """The answer, in the post's language, of the accepted FAQ entry this post belongs to (None if not written).

    The FAQ hook of drafting: Japanese drafts take the Japanese answer, every other language the English one;
    a draft never gets an answer in the other language.
    """
    column = FaqCluster.answer_ja if language == "ja" else FaqCluster.answer_en
    row = session.exec(
        select(column)
        .join(FaqMember, col(FaqMember.cluster_id) == col(FaqCluster.id))
        .where(FaqMember.post_id == post_id, FaqCluster.status == FaqStatus.accepted)
    ).first()
    return row or None


def compose(
    session: Session,
    post: Post,
    analysis: Analysis,
    author: Author,
    *,
    brand: str = "",
    templates_dir: Path | None = None,
) -> tuple[str, str]:
    """(text, template) of the reply the system drafts for `post`: what a new draft and an FAQ re-draft both write."""
    # Rows analysed before the consistency rule existed get the same answer as new ones.
    intent, _ = consistent_intent(analysis.intent, is_question=analysis.is_question, sentiment=analysis.sentiment)
    return render_draft(
        intent=intent,
        language=analysis.language,
        display_name=author.display_name,
        cue_kinds=[c["kind"] for c in analysis.empathy_cues],
        complaint=analysis.sentiment == "negative",
        brand=brand,
        faq_answer=faq_answer_for(session, post.id, analysis.language),  # type: ignore[arg-type]
        templates_dir=templates_dir,
    )


def draft_pending(
    session: Session, *, templates_dir: Path | None = None, brand: str = "", post_ids: list[int] | None = None
) -> int:
    """Write a draft for every post that needs a reply, has none yet, and has not been answered by the brand.

    `post_ids` limits it to those posts (a person's "not spam" rescue drafts that one post at once)."""
    reply = aliased(Post)
    answered = exists().where(
        reply.platform == Post.platform, reply.parent_external_id == Post.external_id, reply.is_brand_reply
    )
    has_draft = select(ReplyDraft.post_id)
    stmt = (
        select(Post, Analysis, Author)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .where(Analysis.needs_reply)
        .where(visible())  # deleted or made private on its platform: never answered
        .where(col(Post.id).not_in(has_draft))
        .where(~answered)
    )
    if post_ids is not None:
        stmt = stmt.where(col(Post.id).in_(post_ids))
    rows = session.exec(stmt.order_by(col(Analysis.priority).desc())).all()
    for post, analysis, author in rows:
        text, template = compose(session, post, analysis, author, brand=brand, templates_dir=templates_dir)
        session.add(ReplyDraft(post_id=post.id, text=text, template=template, state=DraftState.drafted))  # type: ignore[arg-type]
    session.commit()
    log.info("drafted %d replies", len(rows))
    return len(rows)
