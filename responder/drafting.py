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

from kikimimi.db import insert_for
from kikimimi.models import (
    OPEN_DRAFT_CLAUSE,
    Analysis,
    Author,
    DraftState,
    FaqCluster,
    FaqMember,
    FaqStatus,
    Post,
    ReplyDraft,
    visible,
)
from kikimimi.timeutil import utcnow
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


def draft_pending(
    session: Session, *, templates_dir: Path | None = None, brand: str = "", post_ids: list[int] | None = None
) -> int:
    """Write a draft for every post that needs a reply, has none yet, and has not been answered by the brand.

    `post_ids` limits it to those posts (a person's "not spam" rescue drafts that one post at once).
    Another process drafting at the same time is harmless: the database keeps one open draft per post
    (`uq_replydraft_open_post`), so a draft it already wrote wins and ours is dropped; returns how many we wrote."""
    reply = aliased(Post)
    answered = exists().where(
        reply.platform == Post.platform, reply.parent_external_id == Post.external_id, reply.is_brand_reply
    )
    has_draft = exists().where(ReplyDraft.post_id == Post.id)
    accepted = aliased(FaqCluster)
    stmt = (
        select(Post, Analysis, Author, accepted.answer)  # the FAQ answer in the same query, not one per draft
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .outerjoin(FaqMember, col(FaqMember.post_id) == col(Post.id))
        .outerjoin(accepted, (accepted.id == FaqMember.cluster_id) & (accepted.status == FaqStatus.accepted))
        .where(Analysis.needs_reply)
        .where(visible())  # deleted or made private on its platform: never answered
        .where(~has_draft)
        .where(~answered)
    )
    if post_ids is not None:
        stmt = stmt.where(col(Post.id).in_(post_ids))
    rows = session.exec(stmt.order_by(col(Analysis.priority).desc())).all()
    drafts = []
    now = utcnow()
    for post, analysis, author, faq_answer in rows:
        # Rows analysed before the consistency rule existed get the same answer as new ones.
        intent, _ = consistent_intent(analysis.intent, is_question=analysis.is_question, sentiment=analysis.sentiment)
        text, template = render_draft(
            intent=intent,
            language=analysis.language,
            display_name=author.display_name,
            cue_kinds=[c["kind"] for c in analysis.empathy_cues],
            complaint=analysis.sentiment == "negative",
            brand=brand,
            faq_answer=faq_answer or None,
            templates_dir=templates_dir,
        )
        drafts.append(
            {"post_id": post.id, "text": text, "template": template, "state": DraftState.drafted.value}
            | {"created_at": now, "updated_at": now}
        )
    written = 0
    if drafts:
        stmt = (
            insert_for(session, ReplyDraft)
            .on_conflict_do_nothing(index_elements=["post_id"], index_where=OPEN_DRAFT_CLAUSE)
            .returning(ReplyDraft.id)
        )
        written = len(list(session.scalars(stmt, drafts)))
    session.commit()
    if written < len(drafts):
        log.info("%d posts were drafted by another process meanwhile", len(drafts) - written)
    log.info("drafted %d replies", written)
    return written
