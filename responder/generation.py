"""Optional generated reply suggestions from an instruction model (transformers), grounded and linted.

Off unless `reply_model` is configured: the offline default stays the templates. When on, each post's prompt
carries the post, its thread's parent, the accepted FAQ answer, the brand's voice and the template draft; the
model's suggestion is written in the brand's voice (`responder.voice.in_voice`) and kept only when it passes
the brand's lint and its platform's length limit. Otherwise the template draft stands. Either way the draft
lands in `drafted` through `responder.workflow`, for a person to approve. torch and transformers are imported
here only, and only when a model is configured (the `transformers` extra).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel import Session

from kikimimi.models import Analysis, Author, Post
from kikimimi.settings import BrandConfig, Settings, VoiceConfig
from responder.brands import brand_config, brand_for
from responder.drafting import faq_answer_for
from responder.limits import reply_length
from responder.thread import thread_of
from responder.voice import in_voice, lint

__all__ = ["Generated", "TransformersGenerator", "build_prompt", "suggester", "Suggester"]

log = logging.getLogger(__name__)


class Generate(Protocol):
    name: str

    def __call__(self, prompt: str) -> str: ...


@dataclass(frozen=True)
class Generated:
    text: str
    template: str  # "generated:<model>", recorded on the draft
    created_by: str  # "generator:<model>": who wrote the draft, in its first ReviewEvent


Suggester = Callable[..., Generated | None]


class TransformersGenerator:
    """A causal language model (any local path or hub id) that continues a prompt, on GPU when there is one."""

    def __init__(self, model: str, *, max_new_tokens: int = 120, device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._torch = torch
        self.name = model
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForCausalLM.from_pretrained(model).to(self.device).eval()
        self.max_new_tokens = max_new_tokens

    def __call__(self, prompt: str) -> str:
        tokenizer: Any = self.tokenizer
        if getattr(tokenizer, "chat_template", None):
            ids = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt"
            )
            ids = ids if hasattr(ids, "shape") else ids["input_ids"]
        else:
            ids = tokenizer(prompt, return_tensors="pt").input_ids
        ids = ids.to(self.device)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        with self._torch.inference_mode():
            out = self.model.generate(
                ids,
                attention_mask=self._torch.ones_like(ids),
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=pad,
            )
        return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


def build_prompt(
    *,
    post_text: str,
    language: str,
    voice: VoiceConfig,
    brand: str,
    template_draft: str,
    faq_answer: str | None = None,
    parent_text: str | None = None,
) -> str:
    """The instruction: answer this post for `brand`, in its voice, using only the FAQ answer and the draft's facts."""
    words = voice.ja if language == "ja" else voice.en
    lines = [
        f"You write one public social-media reply for the brand {brand or 'the shop'}.",
        f"Write it in {'Japanese' if language == 'ja' else 'English'}, {voice.formality} in tone.",
        "Answer every question in the post. Promise nothing that is not in the facts below.",
    ]
    if language == "ja":
        lines.append(f"Address the customer with {voice.honorific}.")
    if words.avoid:
        lines.append("Never use: " + "; ".join(words.avoid) + ".")
    if words.use:
        lines.append("Say " + "; ".join(f"“{v}” rather than “{k}”" for k, v in words.use.items()) + ".")
    if voice.emoji == "never":
        lines.append("Use no emoji.")
    if parent_text:
        lines.append(f"The post replies to: {parent_text}")
    lines.append(f"The post: {post_text}")
    if faq_answer:
        lines.append(f"The shop's answer to this question (use it): {faq_answer}")
    lines.append(f"A reply from the shop's templates, for the facts: {template_draft}")
    lines.append("The reply:")
    return "\n".join(lines)


def suggester(settings: Settings, generate: Generate | None = None) -> Suggester | None:
    """A suggester for `draft_pending` when `reply_model` is configured (or `generate` is given); else None."""
    if generate is None and not settings.reply_model:
        return None
    model = generate or TransformersGenerator(settings.reply_model, max_new_tokens=settings.reply_model_max_new_tokens)  # type: ignore[arg-type]

    def suggest(
        session: Session,
        post: Post,
        analysis: Analysis,
        author: Author,
        draft: Any,
        *,
        brands: Sequence[BrandConfig] = (),
    ) -> Generated | None:
        config = brand_config(brands, brand_for(session, post))
        voice = config.voice if config else VoiceConfig()
        thread = thread_of(session, post)
        prompt = build_prompt(
            post_text=post.text,
            language=analysis.language,
            voice=voice,
            brand=config.name if config else "",
            template_draft=draft.text,
            faq_answer=faq_answer_for(session, post.id, analysis.language),  # type: ignore[arg-type]
            parent_text=thread.parent.text if thread.parent else None,
        )
        try:
            raw = model(prompt)
        except Exception:  # a model that fails on one post must not stop drafting the others
            log.warning("reply model %s failed on post %s; the template draft stands", model.name, post.id)
            return None
        negative = analysis.sentiment == "negative"
        text = in_voice(" ".join(raw.split()), voice, analysis.language, negative=negative) if raw.strip() else ""
        findings = lint(text, voice, analysis.language, negative=negative) if text else ["empty"]
        if findings or reply_length(post.platform, text).over:
            log.info("suggestion for post %s kept out (%s); the template draft stands", post.id, findings or "length")
            return None
        return Generated(text, f"generated:{model.name}", f"generator:{model.name}")

    return suggest
