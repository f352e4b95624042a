"""Evaluate a backend on a labelled CSV, and benchmark full analysis speed (pure: path/backend in, dict out).

These back `kikimimi eval ...` and `kikimimi bench nlp`, a product feature: brands check the models
on their own data. Every problem with the file is a `DatasetError` whose message names it in one line.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support, recall_score

from kikimimi.errors import KikimimiError
from nlp_models.addressing import addresses_brand_from_text
from nlp_models.analyzer import get_analyzer
from nlp_models.types import INTENTS, SENTIMENTS, TextAnalysis

__all__ = [
    "DatasetError",
    "load_labelled",
    "evaluate_sentiment",
    "evaluate_questions",
    "evaluate_intents",
    "benchmark",
]

_QUESTION_LABELS = ("0", "1")
ADDRESSED_COLUMN = "addresses_brand"


class DatasetError(KikimimiError):
    """The evaluation file cannot be used; the message says why in one line."""


def load_labelled(path: Path | str, column: str, allowed: Sequence[str]) -> tuple[list[str], list[str]]:
    """Read `text` and `column` from a UTF-8 CSV, checking every label is one of `allowed`."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in ("text", column) if c not in header]
            if not header:
                raise DatasetError(f"{path}: the file is empty (expected a header with columns text,{column})")
            if missing:
                raise DatasetError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(header)})")
            texts, labels = [], []
            for line, row in enumerate(reader, start=2):
                label = (row.get(column) or "").strip()
                if label not in allowed:
                    raise DatasetError(
                        f"{path}: line {line}: unknown {column} {label!r} (expected one of {', '.join(allowed)})"
                    )
                texts.append(row.get("text") or "")
                labels.append(label)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise DatasetError(f"{path}: not a readable CSV ({exc})") from exc
    if not texts:
        raise DatasetError(f"{path}: no rows under the header")
    return texts, labels


def load_addressed(path: Path | str, texts: list[str]) -> tuple[list[bool], str]:
    """The optional `addresses_brand` column (0/1) of a labelled CSV, and where the flags came from.

    Without the column, a post that opens with an @handle counts as addressing the brand (a reply or a post
    directed at an account; the CSV names no brand handle to look for), and any other post does not."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if ADDRESSED_COLUMN not in (reader.fieldnames or []):
            return [addresses_brand_from_text(t) for t in texts], "inferred: the text opens with an @handle"
        flags = []
        for line, row in enumerate(reader, start=2):
            value = (row.get(ADDRESSED_COLUMN) or "").strip()
            if value not in ("0", "1"):
                raise DatasetError(f"{path}: line {line}: unknown {ADDRESSED_COLUMN} {value!r} (expected one of 0, 1)")
            flags.append(value == "1")
    return flags, f"column {ADDRESSED_COLUMN}"


def _analyse(
    texts: list[str], backend: str, options: dict[str, Any], addressed: list[bool] | None = None
) -> tuple[list[TextAnalysis], float, str]:
    analyzer = get_analyzer(backend, **options)
    analyzer.analyse(texts[:8])  # load the models outside the timing: posts_per_s is steady-state speed
    start = time.perf_counter()
    results = analyzer.analyse(texts, addresses_brand=addressed)
    seconds = max(time.perf_counter() - start, 1e-9)
    return results, round(len(texts) / seconds, 1), analyzer.name


def evaluate_sentiment(path: Path | str, backend: str = "default", **options: Any) -> dict[str, Any]:
    """Macro-recall (the TweetEval metric), macro-F1 and accuracy over columns text,label."""
    texts, gold = load_labelled(path, "label", SENTIMENTS)
    results, speed, name = _analyse(texts, backend, options)
    pred = [r.sentiment for r in results]
    return {
        "n": len(texts),
        "macro_recall": round(
            float(recall_score(gold, pred, labels=list(SENTIMENTS), average="macro", zero_division=0)), 4
        ),
        "macro_f1": round(float(f1_score(gold, pred, labels=list(SENTIMENTS), average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "posts_per_s": speed,
        "backend": name,
    }


def evaluate_questions(path: Path | str, backend: str = "default", **options: Any) -> dict[str, Any]:
    """Precision, recall and F1 of the question / help-request label over columns text,is_question
    (and the optional addresses_brand, see `load_addressed`)."""
    texts, gold = load_labelled(path, "is_question", _QUESTION_LABELS)
    addressed, source = load_addressed(path, texts)
    results, speed, name = _analyse(texts, backend, options, addressed)
    pred = ["1" if r.is_question else "0" for r in results]
    p, r, f, _ = precision_recall_fscore_support(gold, pred, pos_label="1", average="binary", zero_division=0)
    return {
        "n": len(texts),
        "precision": round(float(p), 4),
        "recall": round(float(r), 4),
        "f1": round(float(f), 4),
        "addresses_brand": {"source": source, "posts": sum(addressed)},
        "posts_per_s": speed,
        "backend": name,
    }


def evaluate_intents(path: Path | str, backend: str = "default", **options: Any) -> dict[str, Any]:
    """Macro-F1 over the intents present in the file, accuracy, and F1 per class (columns text,intent and
    the optional addresses_brand, which moves the question flag and so, through the consistency rule, intents)."""
    texts, gold = load_labelled(path, "intent", INTENTS)
    addressed, source = load_addressed(path, texts)
    results, speed, name = _analyse(texts, backend, options, addressed)
    pred = [r.intent for r in results]
    present = [i for i in INTENTS if i in set(gold)]
    per_class = f1_score(gold, pred, labels=present, average=None, zero_division=0)
    return {
        "n": len(texts),
        "macro_f1": round(float(per_class.mean()), 4),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "per_class": {label: round(float(v), 4) for label, v in zip(present, per_class, strict=True)},
        "addresses_brand": {"source": source, "posts": sum(addressed)},
        "posts_per_s": speed,
        "backend": name,
    }


def benchmark(backend: str = "default", n: int = 2000, **options: Any) -> dict[str, Any]:
    """Full analysis of a fixed mixed English/Japanese corpus: posts/s and seconds per component."""
    from nlp_models.bench_corpus import bench_corpus

    corpus = bench_corpus(n)
    analyzer = get_analyzer(backend, **options)
    analyzer.analyse(corpus[:50])  # load models and warm caches outside the timing
    start = time.perf_counter()
    analyzer.analyse(corpus)
    seconds = max(time.perf_counter() - start, 1e-9)
    out: dict[str, Any] = {
        "n": len(corpus),
        "posts_per_s": round(len(corpus) / seconds, 1),
        "seconds": round(seconds, 3),
        "backend": analyzer.name,
    }
    if backend == "default":
        from nlp_models.bench_corpus import component_seconds

        out["component_seconds"] = component_seconds(analyzer, corpus)  # type: ignore[arg-type]
    return out
