"""spaCy components for Kikimimi's analyses, and the per-language pipelines that run them.

Each component is registered with `@Language.factory` and a documented default config, reads
`doc.text`, writes `doc._.<attr>`, and batches in `pipe`. If a batch fails, the component retries
one document at a time and logs a warning with a short excerpt, so one odd post cannot sink a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import cache

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import DummyTokenizer, registry
from spacy.vocab import Vocab

from nlp_models.cards import WEIGHTS_DIR
from nlp_models.empathy import EMPATHY_VERSION, find_empathy_cues
from nlp_models.encoder_head import EncoderHead, combine
from nlp_models.linear import HashedLinearModel
from nlp_models.sentiment_encoder import SentimentEncoder

__all__ = ["build_pipeline", "doc_text", "load_model", "COMPONENTS", "QUESTION_HEAD_WEIGHT", "INTENT_HEAD_WEIGHT"]

log = logging.getLogger(__name__)

_ATTRS = {
    "sentiment": "neutral",
    "sentiment_scores": None,
    "is_question": False,
    "question_score": 0.0,
    "intent": "other",
    "intent_score": 0.0,
    "empathy_cues": None,
    "encoding": None,  # the sentiment encoder's pooled vector, reused by the question and intent heads
    "addresses_brand": False,  # set by the caller: the post @mentions the brand or replies in its thread
    "intent_scores": None,  # probability per intent, for the consistency rule (nlp_models.consistency)
}
# Exponents of the heads' probabilities when multiplied into the n-gram models' (encoder_head.combine).
# Chosen on the dev splits printed by `python -m nlp_models.training.train_requests`.
QUESTION_HEAD_WEIGHT = 1.0
INTENT_HEAD_WEIGHT = 1.0  # issue 10: 5-fold CV on our labels, 1.0 beat 0.5 / 2 / head alone (weights README)
for _attr, _default in _ATTRS.items():
    if not Doc.has_extension(_attr):
        Doc.set_extension(_attr, default=_default)


_TEXT_KEY = "kikimimi_text"


@cache
def load_model(name: str) -> HashedLinearModel | SentimentEncoder:
    """Load a shipped model once per process: `<name>.onnx` is an encoder, `<name>.npz` a linear model."""
    onnx = WEIGHTS_DIR / f"{name}.onnx"
    return SentimentEncoder(onnx) if onnx.exists() else HashedLinearModel.load(name)


def doc_text(doc: Doc) -> str:
    """`doc.text`, joined once per doc: spaCy rebuilds it from every token on each read, and each component reads it."""
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return text


def _excerpt(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class _BatchedComponent:
    """Base: `predict(docs)` on a whole batch, `assign(doc, row)` per doc, one-by-one retry on failure."""

    name: str

    def predict(self, docs: list[Doc]) -> list:
        raise NotImplementedError

    def assign(self, doc: Doc, result: object) -> None:
        raise NotImplementedError

    def fallback(self, doc: Doc) -> None:
        """Leave the neutral defaults in place when even a single document fails."""

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def _run(self, batch: list[Doc]) -> list[Doc]:
        try:
            for doc, result in zip(batch, self.predict(batch), strict=True):
                self.assign(doc, result)
            return batch
        except Exception:  # noqa: BLE001 - isolate the bad document below
            log.warning("%s: batch of %d failed; retrying one document at a time", self.name, len(batch))
        for doc in batch:
            try:
                self.assign(doc, self.predict([doc])[0])
            except Exception as exc:  # noqa: BLE001 - never raise on odd text
                log.warning("%s failed on %r: %s", self.name, _excerpt(doc_text(doc)), exc)
                self.fallback(doc)
        return batch


class _ModelComponent(_BatchedComponent):
    """A shipped model (`load_model`), optionally with an `EncoderHead` over the sentiment encoder's encoding."""

    def __init__(self, name: str, model: str, head: str = "") -> None:
        self.name = name
        self.model = load_model(model)
        self.head = EncoderHead.load(head) if head else None
        if self.head:
            encoder = load_model(self.head.encoder)
            if encoder.version != self.head.encoder_version or self.head.classes != self.model.classes:
                raise ValueError(
                    f"{head} was trained on {self.head.encoder_version}, not {encoder.version}; "
                    f"retrain it: {self.head.trained_by}"
                )

    @property
    def version(self) -> str:
        return f"{self.model.version}+{self.head.version}" if self.head else self.model.version

    def predict(self, docs: list[Doc]) -> list[np.ndarray]:
        return list(self.model.predict_proba([doc_text(d) for d in docs]))


class SentimentComponent(_ModelComponent):
    """Negative / neutral / positive with a probability per label, from the sentiment encoder.

    Leaves the encoder's pooled encoding in `doc._.encoding` for later heads. With a `head` (the Japanese
    pipeline's, trained on Japanese SNS posts), the head's probabilities over that encoding replace the
    encoder's own output layer."""

    def predict(self, docs: list[Doc]) -> list:
        probs, encodings = self.model.encode([doc_text(d) for d in docs])
        if self.head:
            probs = self.head.predict_proba(encodings)
        return list(zip(probs, encodings, strict=True))

    def assign(self, doc: Doc, result: tuple[np.ndarray, np.ndarray]) -> None:
        ext = doc._
        probs, ext.encoding = result
        scores = {label: float(p) for label, p in zip(self.model.classes, probs, strict=True)}
        ext.sentiment_scores = scores
        ext.sentiment = max(scores, key=scores.__getitem__)

    def fallback(self, doc: Doc) -> None:
        doc._.sentiment_scores = {"negative": 0.0, "neutral": 1.0, "positive": 0.0}


class QuestionComponent(_ModelComponent):
    """Does the author ask for information or action, explicitly or not.

    The n-gram model reads `doc._.addresses_brand` beside the text (where its `inputs` say so). With a `head`,
    the n-gram model's probabilities are multiplied by a head's over the sentiment encoder's
    encoding and `doc._.addresses_brand` (a problem told to the brand is an ask; told to the world, a vent)."""

    def __init__(self, name: str, model: str, threshold: float, head: str = "") -> None:
        super().__init__(name, model, head)
        self.threshold = threshold

    def predict(self, docs: list[Doc]) -> list[np.ndarray]:
        probs = self.model.predict_proba([doc_text(d) for d in docs], [bool(d._.addresses_brand) for d in docs])
        encoded = [i for i, d in enumerate(docs) if d._.encoding is not None]
        if self.head and encoded:
            encodings = np.stack([docs[i]._.encoding for i in encoded])
            flags = np.array([bool(docs[i]._.addresses_brand) for i in encoded])
            probs[encoded] = combine(probs[encoded], self.head.predict_proba(encodings, flags), QUESTION_HEAD_WEIGHT)
        return list(probs)

    def assign(self, doc: Doc, result: np.ndarray) -> None:
        score = float(result[self.model.classes.index("1")])
        ext = doc._
        ext.question_score = score
        ext.is_question = score >= self.threshold


class IntentComponent(_ModelComponent):
    """One intent from nlp_models.types.INTENTS, with its probability.

    With a `head`, the n-gram model's probabilities are multiplied by those of a linear head over the
    sentiment encoder's pooled encoding (docs without one keep the n-gram view alone)."""

    def predict(self, docs: list[Doc]) -> list[np.ndarray]:
        probs = self.model.predict_proba([doc_text(d) for d in docs], [bool(d._.addresses_brand) for d in docs])
        encoded = [i for i, d in enumerate(docs) if d._.encoding is not None]
        if self.head and encoded:
            head = self.head.predict_proba(np.stack([docs[i]._.encoding for i in encoded]))
            probs[encoded] = combine(probs[encoded], head, INTENT_HEAD_WEIGHT)
        return list(probs)

    def assign(self, doc: Doc, result: np.ndarray) -> None:
        best = int(np.argmax(result))
        ext = doc._
        ext.intent = self.model.classes[best]
        ext.intent_score = float(result[best])
        ext.intent_scores = {c: float(p) for c, p in zip(self.model.classes, result, strict=True)}


class EmpathyComponent(_BatchedComponent):
    """Occasions, deadlines, first purchases and repeated problems, with their spans."""

    version = EMPATHY_VERSION

    def __init__(self, name: str) -> None:
        self.name = name

    def predict(self, docs: list[Doc]) -> list:
        return [find_empathy_cues(doc_text(d)) for d in docs]

    def assign(self, doc: Doc, result: list) -> None:
        doc._.empathy_cues = result


@Language.factory("kikimimi_sentiment", default_config={"model": "sentiment_encoder", "head": ""})
def make_sentiment(nlp: Language, name: str, model: str, head: str) -> SentimentComponent:
    """Sentiment from the shipped encoder (`model`: a name under nlp_models/weights/); `head`: a language's head."""
    return SentimentComponent(name, model, head)


@Language.factory(
    "kikimimi_question", default_config={"model": "questions", "threshold": 0.5, "head": "questions_head"}
)
def make_question(nlp: Language, name: str, model: str, threshold: float, head: str) -> QuestionComponent:
    """Question / help-request detector; `threshold` on the request probability sets is_question;
    `head`: "" for the n-gram model alone."""
    return QuestionComponent(name, model, threshold, head)


@Language.factory("kikimimi_intent", default_config={"model": "intents", "head": "intents_head"})
def make_intent(nlp: Language, name: str, model: str, head: str) -> IntentComponent:
    """Intent classifier over the taxonomy in nlp_models.types.INTENTS (`head`: "" for the n-gram model alone)."""
    return IntentComponent(name, model, head)


@Language.factory("kikimimi_empathy", default_config={})
def make_empathy(nlp: Language, name: str) -> EmpathyComponent:
    """Rule-based empathy cues (no weights)."""
    return EmpathyComponent(name)


COMPONENTS: dict[str, Callable] = {
    "kikimimi_sentiment": make_sentiment,
    "kikimimi_question": make_question,
    "kikimimi_intent": make_intent,
    "kikimimi_empathy": make_empathy,
}


# Per-language settings over the factories' defaults. Japanese posts get their own intent model and head (issue
# 10, fourth pass: 5-fold CV on our Japanese posts, macro-F1 0.773 with the shared model, 0.817 with these).
LANGUAGE_CONFIG = {
    "ja": {
        "kikimimi_sentiment": {"head": "sentiment_ja_head"},
        "kikimimi_intent": {"model": "intents_ja", "head": "intents_ja_head"},
    }
}


class CharacterTokenizer(DummyTokenizer):
    """Japanese posts as one token per character.

    Every component reads the whole `doc.text` and none reads tokens, so SudachiPy's segmentation (with spaCy's
    tags, lemmas and readings on top) was the costliest step nobody used. One token per character keeps
    `doc.text` the post itself and the vocabulary no larger than the characters seen."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        chars = list(text)
        doc = Doc(self.vocab, words=chars, spaces=[False] * len(chars))
        doc.user_data[_TEXT_KEY] = text  # what `doc.text` would join from the characters (`doc_text`)
        return doc


@registry.tokenizers("kikimimi.characters.v1")
def make_character_tokenizer() -> Callable[[Language], CharacterTokenizer]:
    return lambda nlp: CharacterTokenizer(nlp.vocab)


_JA_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "kikimimi.characters.v1"}}}


def build_pipeline(lang: str, *, components: Iterable[str] | None = None) -> Language:
    """A blank spaCy pipeline for "en" (spaCy's tokenizer) or "ja" (`CharacterTokenizer`) with Kikimimi's
    components added."""
    nlp = spacy.blank("ja", config=_JA_CONFIG) if lang == "ja" else spacy.blank("en")
    for factory in list(components) if components is not None else list(COMPONENTS):
        nlp.add_pipe(factory, config=LANGUAGE_CONFIG.get(lang, {}).get(factory, {}))
    return nlp
