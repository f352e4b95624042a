"""The offline default analyzer: language by script + langid, then per-language spaCy pipelines.

No torch at run time: sentiment is a fine-tuned multilingual encoder under ONNX Runtime (with a
Japanese head in the Japanese pipeline); questions and intents are hashed n-gram + cue linear models
(numpy), intents joined by a head over the encoder's encoding; weights in nlp_models/weights/; empathy
cues are rules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import cached_property

from spacy.language import Language
from spacy.tokens import Doc

from nlp_models.consistency import reconcile
from nlp_models.language import LANGID_VERSION, detect_language
from nlp_models.pipeline import build_pipeline
from nlp_models.types import TextAnalysis

__all__ = ["DefaultAnalyzer", "doc_to_analysis"]

log = logging.getLogger(__name__)
MAX_CHARS = 10_000  # longer posts are cut before analysis: the models read their start, a 100 kB post costs no more
MAX_RUN = 200  # spaCy's suffix search is quadratic in a token's length: runs without spaces are cut up
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN}}}")


def bounded_for_tokenizer(text: str, lang: str) -> str:
    """The post as the pipelines read it: its first MAX_CHARS characters and, for the space-separated
    languages, no run of more than MAX_RUN characters without a space (10,000 "<" took 8 s to tokenize).
    Japanese is left whole: its pipeline makes a token of each character, and long unspaced runs are normal there."""
    head = text[:MAX_CHARS]
    return head if lang == "ja" else _LONG_RUN.sub(lambda m: m.group() + " ", head)


_PIPELINE_LANGS = ("en", "ja")  # "other" posts go through the English pipeline, marked best effort


def doc_to_analysis(doc: Doc, language: str, versions: dict[str, str]) -> TextAnalysis:
    """Read the attributes our components set on `doc` into the contract type."""
    ext = doc._  # one accessor object, not one per attribute
    scores = ext.sentiment_scores or {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
    return TextAnalysis(
        language=language,
        sentiment=ext.sentiment,
        sentiment_scores=dict(scores),
        is_question=bool(ext.is_question),
        question_score=float(ext.question_score),
        intent=ext.intent,
        intent_score=float(ext.intent_score),
        empathy_cues=list(ext.empathy_cues or []),
        model_versions=dict(versions),
        intent_scores=dict(ext.intent_scores or {}),
    )


class DefaultAnalyzer:
    """Measured offline models for every analysis; see nlp_models/weights/*.md for their cards."""

    name = "default"

    def __init__(self, batch_size: int = 256) -> None:
        self.batch_size = batch_size

    @cached_property
    def pipelines(self) -> dict[str, Language]:
        return {lang: build_pipeline(lang) for lang in _PIPELINE_LANGS}

    @cached_property
    def versions(self) -> dict[str, str]:  # type: ignore[override]
        """component -> version; every analysis stores exactly this, so `analyse --redo` finds stale ones.

        Posts in other languages go through the English pipeline's multilingual sentiment encoder, marked best
        effort under "sentiment_other" (its training rows span English, Japanese and seven other languages).
        """
        components = {lang: dict(nlp.pipeline) for lang, nlp in self.pipelines.items()}
        en, ja = components["en"], components["ja"]
        return {
            "language": LANGID_VERSION,
            "sentiment": f"en:{en['kikimimi_sentiment'].version};ja:{ja['kikimimi_sentiment'].version}",
            "sentiment_other": f"best effort: {en['kikimimi_sentiment'].version}",
            "question": en["kikimimi_question"].version,
            "intent": f"en:{en['kikimimi_intent'].version};ja:{ja['kikimimi_intent'].version}",
            "empathy": en["kikimimi_empathy"].version,
        }

    def analyse(self, texts: Sequence[str], addresses_brand: Sequence[bool] | None = None) -> list[TextAnalysis]:
        """Analyse `texts` in batches; results come back in input order; odd text never raises.

        `addresses_brand` (one flag per text, default all False) tells the question model which posts
        @mention the brand or reply in its thread. Every result has passed `consistency.reconcile`."""
        clean = [t if isinstance(t, str) else "" for t in texts]
        flags = [bool(f) for f in addresses_brand] if addresses_brand is not None else [False] * len(clean)
        if len(flags) != len(clean):
            raise ValueError(f"{len(flags)} addresses_brand flags for {len(clean)} texts")
        languages = [detect_language(t) for t in clean]
        results: list[TextAnalysis | None] = [None] * len(clean)
        for lang in _PIPELINE_LANGS:
            idx = [i for i, lg in enumerate(languages) if (lg == "ja") == (lang == "ja")]
            if not idx:
                continue
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start : start + self.batch_size]
                batch = [bounded_for_tokenizer(clean[i], lang) for i in chunk]
                docs = self._docs(lang, batch, [flags[i] for i in chunk])
                for i, doc in zip(chunk, docs, strict=True):
                    results[i] = reconcile(doc_to_analysis(doc, languages[i], self.versions))
        return [r for r in results if r is not None]

    def _docs(self, lang: str, texts: list[str], flags: list[bool] | None = None) -> list[Doc]:
        """Run one batch; if the tokenizer or a component raises, go one text at a time."""
        nlp = self.pipelines[lang]
        flags = flags if flags is not None else [False] * len(texts)

        def marked(text: str, flag: bool) -> Doc:
            doc = nlp.make_doc(text)
            doc._.addresses_brand = flag
            return doc

        try:
            made = [marked(t, f) for t, f in zip(texts, flags, strict=True)]
            return list(nlp.pipe(made, batch_size=self.batch_size))
        except Exception:  # noqa: BLE001 - isolate the bad text below
            log.warning("%s pipeline: batch of %d failed; retrying one text at a time", lang, len(texts))
        docs = []
        for text, flag in zip(texts, flags, strict=True):
            try:
                docs.append(nlp(marked(text, flag)))
            except Exception as exc:  # noqa: BLE001 - never raise on odd text
                log.warning("%s pipeline failed on %r: %s", lang, " ".join(text.split())[:40], exc)
                docs.append(nlp.make_doc("") if text else nlp.make_doc(text))
        return docs
