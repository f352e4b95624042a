"""The brand voice: write a draft in it (`in_voice`) and flag where a draft breaks it (`lint`).

The voice is configuration per brand (`[brands.voice]` in kikimimi.toml, `kikimimi.settings.VoiceConfig`):
wording to use instead of wording to avoid, phrases never to use, a sign-off, an emoji policy, the honorific
(様 / さん) and the formality. The composer's drafts pass their own brand's lint; a person's edit may not, and
the queue shows the findings beside the draft before anyone approves it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import regex
from sqlmodel import Session, select

from kikimimi.models import Analysis, Post, ReplyDraft
from kikimimi.settings import BrandConfig, VoiceConfig, VoiceWords
from responder.brands import brand_config, brand_for

__all__ = ["Finding", "lint", "lint_draft", "lint_post", "in_voice", "voice_of"]

_EMOJI = regex.compile(r"\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier}|\u200D\p{Extended_Pictographic})*")
_EN_CASUAL = re.compile(r"\b(?:hey|gonna|wanna|gotta|yeah|yep|nope|thx|lol|dude|cuz|ya)\b", re.IGNORECASE)
_EN_CONTRACTION = re.compile(
    r"\b(?:we|you|they|i|it|that|there|here|let|don|can|won|isn|aren|didn|doesn|wasn|couldn|wouldn|shouldn)"
    r"['’](?:re|ve|ll|d|s|m|t)\b",
    re.IGNORECASE,
)
_JA_CASUAL = re.compile(
    r"だよ|だね|じゃん|してね|してよ|ありがと(?!う)|ごめん|よろしく(?!お願い)|わかった|了解(?!いたし)|だ[。！!]"
)
# words that carry an honorific without addressing the customer by name
_SAN_WORDS = ("皆さん", "みなさん", "お客さん")
_SAMA_WORDS = ("お客様", "皆様", "みな様", "様々", "様子", "お疲れ様", "ご苦労様", "奥様", "お子様", "神様")
_NAME = r"[A-Za-z\u3040-\u30ff\u4e00-\u9fff々ー]"


@dataclass(frozen=True)
class Finding:
    """One way a draft breaks its brand's voice: a code the dashboard translates, the English message, details."""

    code: str  # avoid | use | sign_off | emoji | emoji_count | honorific | formality
    message: str
    params: dict[str, str | int] = field(default_factory=dict)


def _words(voice: VoiceConfig, language: str) -> VoiceWords:
    return voice.ja if language == "ja" else voice.en


def _contains(text: str, phrase: str, language: str) -> bool:
    if language == "ja":
        return phrase in text
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def lint(text: str, voice: VoiceConfig, language: str, *, negative: bool = False) -> list[Finding]:
    """Every way `text` (a reply in `language`, to a post that is `negative` or not) breaks `voice`."""
    lang = "ja" if language == "ja" else "en"
    words = _words(voice, lang)
    found: list[Finding] = []
    for phrase in words.avoid:
        if phrase and _contains(text, phrase, lang):
            found.append(Finding("avoid", f"avoid “{phrase}”", {"phrase": phrase}))
    for phrase, instead in words.use.items():
        if phrase and _contains(text, phrase, lang):
            found.append(Finding("use", f"say “{instead}”, not “{phrase}”", {"phrase": phrase, "instead": instead}))
    if words.sign_off and not text.rstrip().endswith(words.sign_off):
        found.append(Finding("sign_off", f"end with the sign-off “{words.sign_off}”", {"sign_off": words.sign_off}))
    emoji = _EMOJI.findall(text)
    if emoji and (voice.emoji == "never" or (voice.emoji == "not_on_negative" and negative)):
        why = "never" if voice.emoji == "never" else "not in a reply to an unhappy customer"
        found.append(Finding("emoji", f"no emoji ({why}): {''.join(emoji)}", {"emoji": "".join(emoji)}))
    elif len(emoji) > voice.max_emoji:
        found.append(
            Finding("emoji_count", f"at most {voice.max_emoji} emoji", {"max": voice.max_emoji, "used": len(emoji)})
        )
    if lang == "ja":
        found.extend(_honorific(text, voice.honorific))
    found.extend(_formality(text, voice.formality, lang))
    return found


def _honorific(text: str, honorific: str) -> list[Finding]:
    other, exceptions = ("さん", _SAN_WORDS) if honorific == "様" else ("様", _SAMA_WORDS)
    for match in re.finditer(rf"{_NAME}+?{other}", text):
        if not any(word in text[max(0, match.end() - 6) : match.end() + 1] for word in exceptions):
            return [Finding("honorific", f"address the customer as {honorific}, not {other}", {"honorific": honorific})]
    return []


def _formality(text: str, formality: str, language: str) -> list[Finding]:
    if formality == "casual":
        return []
    pattern = _JA_CASUAL if language == "ja" else _EN_CASUAL
    hits = [m.group(0) for m in pattern.finditer(text)]
    if language == "en" and formality == "formal":
        hits += [m.group(0) for m in _EN_CONTRACTION.finditer(text)]
    if not hits:
        return []
    shown = ", ".join(dict.fromkeys(hits))
    return [Finding("formality", f"too casual for a {formality} voice: {shown}", {"words": shown, "level": formality})]


def in_voice(text: str, voice: VoiceConfig, language: str, *, negative: bool = False) -> str:
    """`text` written in `voice`: the brand's own wording, emoji only where allowed, and its sign-off."""
    lang = "ja" if language == "ja" else "en"
    words = _words(voice, lang)
    for phrase, instead in words.use.items():
        if phrase and lang == "ja":
            text = text.replace(phrase, instead)
        elif phrase:
            text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", instead, text, flags=re.IGNORECASE)
    allowed = 0 if voice.emoji == "never" or (voice.emoji == "not_on_negative" and negative) else voice.max_emoji
    kept = 0

    def keep(match: regex.Match) -> str:
        nonlocal kept
        kept += 1
        return match.group(0) if kept <= allowed else ""

    text = _EMOJI.sub(keep, text)
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    if words.sign_off and not text.endswith(words.sign_off):
        text = f"{text}{'' if lang == 'ja' else ' '}{words.sign_off}"
    return text


def voice_of(brands: Sequence[BrandConfig], session: Session, post: Post) -> VoiceConfig:
    """The voice of the brand whose query matched `post` (the neutral default when it is not configured)."""
    config = brand_config(brands, brand_for(session, post))
    return config.voice if config else VoiceConfig()


def lint_post(session: Session, post: Post, text: str, brands: Sequence[BrandConfig]) -> list[Finding]:
    """The findings for `text` as a reply to `post`, against the voice of the post's brand."""
    analysis = session.exec(select(Analysis).where(Analysis.post_id == post.id)).first()
    language = analysis.language if analysis else (post.language or "en")
    negative = bool(analysis and analysis.sentiment == "negative")
    return lint(text, voice_of(brands, session, post), language, negative=negative)


def lint_draft(
    session: Session, draft: ReplyDraft, brands: Sequence[BrandConfig], *, text: str | None = None
) -> list[Finding]:
    """The findings for `draft` (or for `text`, a person's edit of it not saved yet) against its brand's voice."""
    post = session.get(Post, draft.post_id)
    return [] if post is None else lint_post(session, post, draft.text if text is None else text, brands)
