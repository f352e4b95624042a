"""Compose reply drafts from editable Jinja2 templates, personalised per post, in the brand's voice.

The template is chosen from intent, question and sentiment together (`choose_template`): a positive post never
gets an apology; a question gets its topic's answer, with an apology first when the post is negative; a
negative post that asks nothing gets the apology template. The draft greets by first name (with the brand's
honorific), acknowledges every empathy cue, uses the accepted FAQ answer in the post's language, answers each
part of a multi-part question in a sentence of its own, knows the thread (an order number already given is
not asked for again, the brand's earlier reply is not repeated), and passes its brand's voice lint.

Templates come from the newest version saved in the dashboard (`responder.template_versions`), else the
user's `templates_dir`, else the packaged `templates/` (version 0).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from kikimimi.models import (
    Analysis,
    Author,
    FaqCluster,
    FaqMember,
    FaqStatus,
    Post,
    ReplyDraft,
    ours,
    visible,
)
from kikimimi.settings import BrandConfig, VoiceConfig
from nlp_models.consistency import consistent_intent
from nlp_models.types import INTENTS
from responder import template_versions, workflow
from responder.brands import brand_config, brand_for
from responder.limits import reply_length
from responder.parts import part_topic as _part_topic
from responder.parts import question_parts
from responder.thread import Thread, drop_repeated, order_reference, thread_of
from responder.voice import in_voice

log = logging.getLogger(__name__)
PACKAGED_TEMPLATES = Path(__file__).with_name("templates")

# One acknowledgement per empathy cue kind, per language: the reply shows the customer we read the post.
ACKNOWLEDGEMENTS = {
    "en": {
        "occasion:anniversary": "We know this is for your anniversary, so we'll treat it as a priority.",
        "occasion:birthday": "We know it's for a birthday, so we'll do everything we can to get it there in time.",
        "occasion:gift": "Since it's a gift, we'll make sure it arrives looking its best.",
        "occasion:wedding": "Congratulations on the wedding, and we'll make this right in time.",
        "deadline": "We've noted your deadline and will confirm whether we can meet it.",
        "first_purchase": "Thank you for choosing us for your first order.",
        "repeated_problem": "We know this has happened more than once, and we'll look into why.",
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
# a cue kind the table does not know yet still gets acknowledged, in the customer's own words
_ACK_FALLBACK = {"en": "We've noted what you said about “{span}”.", "ja": "「{span}」とのこと、承知いたしました。"}
# cues of a problem are not acknowledged on a happy post ("will buy again" is not a repeated problem)
_PROBLEM_CUES = frozenset({"repeated_problem"})
_NOT_NAMES = {"the", "official", "mr", "mrs", "ms", "dr", "tea", "shop", "store", "team", "just", "not", "a"}
_LATIN_NAME = re.compile(r"^[A-Z][a-z]{1,14}$|^[a-z]{2,14}$")
_JA_NAME = re.compile(r"^[\u3040-\u30ff\u4e00-\u9fff々ー]{1,6}$")
_JA_TEXT = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# the English body follows "Hi Mika, ": its first word is written lower-case there
_LOWER_AFTER_GREETING = re.compile(
    r"^(Hi [^,]{1,40}, |Hi there, )(We|We're|We've|We'll|Thanks|Thank|Sorry|Could|Yes|No|Happy|Please|Great|Our"
    r"|You|It|That|This|Since|About|Unopened)\b"
)


def first_name(display_name: str | None, language: str, honorific: str = "さん") -> str | None:
    """A first name to greet by, when the display name plainly gives one; otherwise None (never guess wildly).

    Only the leading run of letters counts: 「ゆうき@在宅」 is ゆうき, "Mika | tea lover" is Mika. Japanese
    replies add the brand's honorific (さん or 様).
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
        return f"{match.group(0)}{honorific}"
    if _LATIN_NAME.match(token) and token.lower() not in _NOT_NAMES:
        name = token.capitalize()
        return f"{name}{honorific}" if language == "ja" else name
    return None


def _is_name_char(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") or ch in "々ー"


@dataclass(frozen=True)
class Choice:
    """Which template a post gets, and whether the reply opens with an apology."""

    template: str  # an intent's template name, without language and extension
    apologise: bool
    topic: str  # the post's (consistent) intent: what the reply is about


def choose_template(intent: str, *, is_question: bool, sentiment: str) -> Choice:
    """The template from intent, question and sentiment together.

    - positive: never an apology; a question gets its topic's answer, anything else the thanks (praise) template;
    - a question: its topic's template, with an apology first when the post is negative;
    - a post that asks nothing: the apology (complaint) template when it is negative or a complaint, else its
      topic's template (a neutral support turn such as 「追跡番号は…です」).
    """
    topic, _ = consistent_intent(intent, is_question=is_question, sentiment=sentiment)
    topic = topic if topic in INTENTS else "other"
    if sentiment == "positive":
        return Choice(topic if is_question else "praise", False, topic)
    if is_question:
        return Choice(topic, sentiment == "negative", topic)
    if sentiment == "negative" or topic == "complaint":
        return Choice("complaint", True, topic)
    return Choice(topic, False, topic)


def template_environment(override_dir: Path | str | None = None, saved: Mapping[str, str] | None = None) -> Environment:
    """Templates saved in the dashboard first, then the user's folder (if configured), then the packaged ones."""
    loaders: list[Any] = [DictLoader(dict(saved))] if saved else []
    if override_dir:
        loaders.append(FileSystemLoader(str(override_dir)))
    loaders.append(FileSystemLoader(str(PACKAGED_TEMPLATES)))
    return Environment(
        loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


def acknowledgements(cues: Sequence[Mapping[str, Any]], language: str, *, sentiment: str = "neutral") -> list[str]:
    """One line per empathy cue kind found (in reading order); problem cues are not read into a happy post."""
    lang = "ja" if language == "ja" else "en"
    lines: dict[str, str] = {}
    for cue in cues:
        kind = str(cue.get("kind", ""))
        if not kind or kind in lines or (sentiment == "positive" and kind in _PROBLEM_CUES):
            continue
        lines[kind] = ACKNOWLEDGEMENTS[lang].get(kind) or _ACK_FALLBACK[lang].format(span=cue.get("span", kind))
    return list(lines.values())


def render_draft(
    *,
    intent: str,
    language: str,
    display_name: str | None,
    cue_kinds: Sequence[str] = (),
    cues: Sequence[Mapping[str, Any]] | None = None,
    is_question: bool = False,
    sentiment: str = "neutral",
    complaint: bool | None = None,
    brand: str = "",
    faq_answer: str | None = None,
    parts: Sequence[str] = (),
    order_ref: str | None = None,
    voice: VoiceConfig | None = None,
    thread: Thread | None = None,
    platform: str | None = None,
    templates_dir: Path | None = None,
    environment: Environment | None = None,
) -> tuple[str, str]:
    """Return (text, template name) for one post; Japanese posts get Japanese replies, anything else English.

    `complaint=True` is the older way of saying the post is negative. `parts` are the asks of a multi-part
    question (each gets a sentence); `order_ref` an order number the customer already gave; `thread` the
    thread, whose brand replies are not repeated. With `platform`, acknowledgements after the first, then parts,
    are left out until the reply fits the platform's limit.
    """
    lang = "ja" if language == "ja" else "en"
    if complaint is not None and sentiment == "neutral":
        sentiment = "negative" if complaint else "neutral"
    voice = voice or VoiceConfig()
    env = environment or template_environment(templates_dir)
    choice = choose_template(intent, is_question=is_question or bool(parts), sentiment=sentiment)
    template, name = _template(env, lang, choice.template)
    common = {
        "brand": brand,
        "apologise": choice.apologise,
        "complaint": choice.apologise,
        "topic": choice.topic,
        "order_ref": order_ref,
    }
    topics = [_part_topic(part, choice.topic) for part in parts] if len(parts) > 1 else []
    # the FAQ answer goes to the first part on the post's own topic (else the first part), once
    faq_at = next((i for i, topic in enumerate(topics) if topic == choice.topic), 0)
    answers = [
        _part_sentence(env, lang, part, topic, faq_answer if i == faq_at else None, common)
        for i, (part, topic) in enumerate(zip(parts, topics, strict=True))
    ]
    ack = acknowledgements(cues if cues is not None else [{"kind": k} for k in cue_kinds], lang, sentiment=sentiment)
    values = {
        **common,
        "name": first_name(display_name, lang, voice.honorific),
        "faq_answer": faq_answer,
        "part": None,
    }
    negative = sentiment == "negative"
    text = ""
    # the longest reply that fits the platform: all acknowledgements and parts, then fewer
    for n_ack, n_parts in _shorter(len(ack), len(answers)):
        text = _tidy(template.render(**values, ack=ack[:n_ack], parts=answers[:n_parts]), lang)
        if thread is not None and thread.brand_replies:
            text = drop_repeated(text, thread)
            if not text:  # everything this reply would say, the brand already said here
                template, name = _template(env, lang, "followup")
                text = _tidy(template.render(**values, ack=[], parts=[]), lang)
        text = in_voice(text, voice, lang, negative=negative)
        if platform is None or not reply_length(platform, text).over:
            break
    return text, name


def _shorter(acks: int, parts: int) -> list[tuple[int, int]]:
    """(acknowledgements, parts) to try, longest first: drop acknowledgements after the first, then parts."""
    tries = [(acks, parts)] + [(a, parts) for a in range(acks - 1, 0, -1)]
    tries += [(min(acks, 1), p) for p in range(parts - 1, 1, -1)] + [(min(acks, 1), 0), (0, 0)]
    return list(dict.fromkeys(tries))


def _part_sentence(
    env: Environment, lang: str, part: str, topic: str, faq_answer: str | None, common: dict[str, Any]
) -> str:
    """The one sentence that answers one part of a multi-part question, from its topic's template."""
    template, _ = _template(env, lang, topic)
    values = {**common, "topic": topic, "name": None, "ack": [], "faq_answer": faq_answer, "parts": [], "part": part}
    return _tidy(template.render(**values), lang)


def _template(env: Environment, lang: str, which: str) -> tuple[Any, str]:
    name = f"{lang}/{which}.j2"
    try:
        return env.get_template(name), name
    except TemplateNotFound:
        name = f"{lang}/other.j2"
        return env.get_template(name), name


def _tidy(text: str, lang: str) -> str:
    if lang == "ja":
        return "".join(line.strip() for line in text.splitlines())
    text = " ".join(text.split())
    return _LOWER_AFTER_GREETING.sub(lambda m: m.group(1) + m.group(2).lower(), text)


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
    return (row or "").strip() or None


@dataclass(frozen=True)
class Composed:
    text: str
    template: str  # e.g. "ja/order_status.j2", with "@v3" when a version saved in the dashboard wrote it


def compose(
    session: Session,
    post: Post,
    analysis: Analysis,
    author: Author,
    *,
    brands: Sequence[BrandConfig] = (),
    templates_dir: Path | None = None,
    saved: Mapping[str, template_versions.SavedTemplate] | None = None,
    environment: Environment | None = None,
) -> Composed:
    """The draft for one stored, analysed post (nothing is written): what `draft_pending` stores, and what a
    re-draft (an FAQ answer accepted later) writes through the workflow's edit."""
    brand = brand_for(session, post)
    config = brand_config(brands, brand)
    voice = config.voice if config else VoiceConfig()
    thread = thread_of(session, post)
    parts = getattr(analysis, "question_parts", None) or question_parts(post.text, analysis.language)
    saved = template_versions.newest(session) if saved is None else saved
    env = environment or template_environment(templates_dir, {n: t.body for n, t in saved.items()})
    text, name = render_draft(
        intent=analysis.intent,
        language=analysis.language,
        display_name=author.display_name,
        cues=analysis.empathy_cues,
        is_question=analysis.is_question,
        sentiment=analysis.sentiment,
        brand=(config.name if config else brand.name if brand else ""),
        faq_answer=faq_answer_for(session, post.id, analysis.language),  # type: ignore[arg-type]
        parts=parts if analysis.is_question else (),
        order_ref=order_reference(post, thread),
        voice=voice,
        thread=thread,
        platform=post.platform,
        environment=env,
    )
    return Composed(text, template_versions.label(name, dict(saved)))


def analysed_posts() -> Any:
    """Posts with their analysis and author, as drafting reads them (a post not analysed yet is not among them)."""
    return (
        select(Post, Analysis, Author)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .join(Author, col(Author.id) == col(Post.author_id))
    )


def draft_pending(
    session: Session,
    *,
    brands: Sequence[BrandConfig] = (),
    templates_dir: Path | None = None,
    post_ids: list[int] | None = None,
    suggest: Any = None,
) -> int:
    """Write a draft for every post that needs a reply, has none yet, and has not been answered by the brand.

    `post_ids` limits it to those posts (a person's "not spam" rescue drafts that one post at once). `suggest`
    (a `responder.generation.Suggester`) replaces the template's text with a generated suggestion where one
    passes the brand's lint. Every draft lands in `drafted` through the workflow, for a person to approve.
    Another process drafting at the same time is harmless: the database keeps one open draft per post
    (`uq_replydraft_open_post`), so a draft it already wrote wins and ours is dropped; returns how many we wrote.
    """
    reply = aliased(Post)
    answered = exists().where(
        reply.platform == Post.platform, reply.parent_external_id == Post.external_id, reply.is_brand_reply
    )
    has_draft = exists().where(ReplyDraft.post_id == Post.id)
    stmt = (
        analysed_posts()
        .where(Analysis.needs_reply)
        .where(visible())  # deleted or made private on its platform: never answered
        .where(ours())  # a post only competitor queries matched is theirs to answer, not ours
        .where(~has_draft)
        .where(~answered)
    )
    if post_ids is not None:
        stmt = stmt.where(col(Post.id).in_(post_ids))
    else:  # new work only: the analyses drafting has not settled yet, read by an index on (needs_reply, draft_checked)
        stmt = stmt.where(~col(Analysis.draft_checked))
    rows = session.exec(stmt.order_by(col(Analysis.priority).desc())).all()
    saved = template_versions.newest(session)
    env = template_environment(templates_dir, {n: t.body for n, t in saved.items()})
    written = 0
    for post, analysis, author in rows:
        draft = compose(session, post, analysis, author, brands=brands, saved=saved, environment=env)
        text, template, by = draft.text, draft.template, workflow.SYSTEM
        if suggest is not None:
            generated = suggest(session, post, analysis, author, draft, brands=brands)
            if generated is not None:
                text, template, by = generated.text, generated.template, generated.created_by
        try:
            with session.begin_nested():  # another process may have drafted this post meanwhile
                workflow.create_draft(session, post, text, template=template, created_by=by)
            written += 1
        except IntegrityError:
            log.info("post %s was drafted by another process meanwhile", post.id)
    session.commit()
    _settle(session, has_draft | answered)
    log.info("drafted %d replies", written)
    return written


def _settle(session: Session, settled: Any) -> None:
    """Mark the analyses whose post now has a draft or the brand's reply: no later pass looks at them again,
    until a new analysis of the post (`nlp_models.stage`) clears the mark. Posts left out for another reason
    (deleted, only a competitor's) stay unsettled, so a pass sees them again as it did before."""
    post_ids = select(Post.id).where(col(Post.id) == col(Analysis.post_id), settled)
    session.execute(
        update(Analysis)
        .where(col(Analysis.needs_reply), ~col(Analysis.draft_checked), exists(post_ids))
        .values(draft_checked=True)
    )
    session.commit()


def preview(
    session: Session,
    post_id: int,
    name: str,
    text: str,
    *,
    brands: Sequence[BrandConfig] = (),
    templates_dir: Path | None = None,
) -> Composed:
    """The draft a real stored post would get if template `name` read `text` (nothing is saved or written)."""
    row = session.exec(analysed_posts().where(Post.id == post_id)).first()
    if row is None:
        raise LookupError(f"no analysed post {post_id}")
    saved = template_versions.newest(session)
    saved[name] = template_versions.SavedTemplate(name, -1, text)  # the unsaved text, shown as "@v-1"
    return compose(session, *row, brands=brands, templates_dir=templates_dir, saved=saved)


def preview_posts(session: Session, language: str, *, limit: int = 40) -> list[Post]:
    """Real posts to preview a template on: the newest analysed posts in `language` that need a reply."""
    return list(
        session.exec(
            select(Post)
            .join(Analysis, col(Analysis.post_id) == col(Post.id))
            .where(Analysis.language == language, Analysis.needs_reply, visible())
            .order_by(col(Post.created_at).desc())
            .limit(limit)
        )
    )
