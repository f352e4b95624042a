"""5-fold cross-validation of the question and intent models' training choices, on our labels only.

    python -m nlp_models.training.cv_requests                      # every variant below
    python -m nlp_models.training.cv_requests --tasks questions --variants shipped,flag --cache /tmp/enc.npz

Folds are md5(text) % 5 over our labelled rows (`labels/*`: real posts, general tweets, our written posts);
every other source trains in every fold, and its own dev split never trains. Each variant is fitted five
times by `train_requests.fit_models`; the held-out folds are pooled and scored as the pipeline scores them
(n-gram x head^weight, the question threshold, then `consistency.consistent_intent` with the predicted
question flag and sentiment). The head weights and the threshold are compared on the same fits.
Nothing here reads tests/data or nlp_models/evaluation_sets.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from nlp_models.consistency import consistent_intent
from nlp_models.encoder_head import EncoderHead, combine
from nlp_models.pipeline import INTENT_HEAD_WEIGHT, QUESTION_HEAD_WEIGHT
from nlp_models.training.data import SEED
from nlp_models.training.request_data import Row, request_rows
from nlp_models.training.train_requests import RARE_INTENTS, Encodings, Options, fit_models, intent_models
from nlp_models.types import INTENTS

FOLDS = 5
VARIANTS = {
    # as `train_requests` fits now: the flag in the question head only, no copies; Japanese intents from their
    # own n-gram model and head
    "shipped": Options(),
    "flag": Options(question_flag=True),
    "flag_copies": Options(question_flag=True, public_copies=1.0),
    "flag_copies_half": Options(question_flag=True, public_copies=0.5),
    # Issue 10, fourth pass: who serves the Japanese posts' intents.
    "one_model": Options(ja_intents=""),  # the third pass: one intent model and head for both languages
    "ja_share_0.25": Options(ja_intents="", ja_intent_share=0.25),  # Japanese rows weigh 1/4 of the English total
    "ja_share_1": Options(ja_intents="", ja_intent_share=1.0),  # both languages carry the same total weight
    "ja_ngram": Options(ja_intents="ngram"),  # a Japanese n-gram model beside the shared head
    "ja_ngram_share_0.25": Options(ja_intents="ngram", ja_intent_share=0.25),
}
# Variants fitted without some label files: main's rows (issue 10, second pass) before the third pass's labels.
LEFT_OUT = {
    "second_pass": (
        Options(ja_intents=""),
        ("labels/support_tweets_labels_3.csv", "labels/airline_labels_2.csv", "labels/tweet_acts_labels.csv"),
    ),
}
RARE_BIASES = (-1.0, -0.5, 0.0, 0.5, 1.0)  # log-odds added to RARE_INTENTS in the shared n-gram model (score time)
# Which held-out rows each figure pools (by source).
GROUPS = {
    "EN support+airline": ("labels/spotifycares", "labels/support_tweets", "labels/airline"),
    "EN general tweets": ("labels/tweet_acts",),
    "EN written": ("labels/written_en",),
    "JA ours": ("labels/casual_ja", "labels/written_ja"),
}


def fold_of(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest(), 16) % FOLDS


class CachedEncodings(Encodings):
    """`Encodings` that also keeps the sentiment (EN: the encoder's layer; JA: the Japanese head), on disk."""

    def __init__(self, cache: Path | None) -> None:
        super().__init__()
        self.ja_head = EncoderHead.load("sentiment_ja_head")
        self.cache = cache
        self._probs: dict[str, np.ndarray] = {}
        if cache and cache.exists():
            with np.load(cache, allow_pickle=False) as z:
                texts = [str(t) for t in z["texts"]]
                self._cache.update(zip(texts, z["pooled"], strict=True))
                self._probs.update(zip(texts, z["probs"], strict=True))

    def warm(self, texts: list[str]) -> None:
        missing = sorted({t for t in texts if t not in self._cache})
        for start in range(0, len(missing), 512):
            chunk = missing[start : start + 512]
            probs, pooled = self.encoder.encode(chunk)
            self._cache.update(zip(chunk, pooled, strict=True))
            self._probs.update(zip(chunk, probs, strict=True))
        if missing and self.cache:
            texts = sorted(self._cache)
            np.savez(
                self.cache,
                texts=np.array(texts),
                pooled=np.stack([self._cache[t] for t in texts]),
                probs=np.stack([self._probs[t] for t in texts]),
            )

    def sentiment(self, texts: list[str], langs: list[str]) -> list[str]:
        out = []
        for text, lang in zip(texts, langs, strict=True):
            probs = self.ja_head.predict_proba(self([text])).ravel() if lang == "ja" else self._probs[text]
            out.append(self.encoder.classes[int(np.argmax(probs))])
        return out


def _ours(row: Row) -> bool:
    return row.source.startswith("labels/")


def _fold_part(train: list[Row], held: list[Row], options: Options, enc: CachedEncodings, tasks: tuple[str, ...]):
    models = fit_models(train, enc, options, tasks)
    texts, flags = [r.text for r in held], [r.addresses_brand for r in held]
    e = enc(texts)
    part: dict = {"rows": held, "sentiment": enc.sentiment(texts, [r.lang for r in held])}
    if "questions" in tasks:
        part["qn"] = models["questions"].predict_proba(texts, flags)[:, models["questions"].classes.index("1")]
        part["qh"] = models["questions_head"].predict_proba(e, np.array(flags))[:, 1]
    if "intents" in tasks:
        part["in"], part["ih"] = models["intents"].predict_proba(texts), models["intents_head"].predict_proba(e)
        part["classes"] = models["intents"].classes
    return part


def held_out_parts(
    rows: list[Row],
    options: Options,
    enc: CachedEncodings,
    tasks: tuple[str, ...],
    left_out: tuple[str, ...] = (),
    cache: Path | None = None,
) -> list[dict]:
    """Per fold: the held-out rows and each component's probabilities on them (the shared models' fits are kept
    under `cache`, so variants that differ only in their Japanese intent model fit those alone)."""
    shared = replace(options, ja_intents="", rare_bias=0.0)
    parts = []
    for k in range(FOLDS):
        train = [r for r in rows if not _ours(r)] + [
            replace(r, split="train") for r in rows if _ours(r) and fold_of(r.text) != k and r.source not in left_out
        ]
        held = [r for r in rows if _ours(r) and fold_of(r.text) == k]
        key = hashlib.md5(repr((shared, left_out, tasks, k, len(rows))).encode()).hexdigest()[:12]
        path = cache / f"fold-{key}.pkl" if cache else None
        if path and path.exists():
            part = pickle.loads(path.read_bytes())
        else:
            part = _fold_part(train, held, shared, enc, tasks)
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(pickle.dumps(part))
        part["shared"] = np.array([True] * len(held))
        ja = [n for n, r in enumerate(held) if r.lang == "ja"]
        if options.ja_intents and "intents" in tasks and ja:
            ja_rows = [r for r in train if r.split == "train" and r.intent is not None and r.lang == "ja"]
            models = intent_models("intents_ja", ja_rows, enc, head=options.ja_intents == "own")
            assert models["intents_ja"].classes == part["classes"]
            part["in"][ja] = models["intents_ja"].predict_proba([held[n].text for n in ja])
            if "intents_ja_head" in models:
                part["ih"][ja] = models["intents_ja_head"].predict_proba(enc([held[n].text for n in ja]))
            part["shared"][ja] = False
        parts.append(part)
        print(f"  fold {k}: {len(train)} training rows, {len(held)} held out", flush=True)
    return parts


def _biased(probs: np.ndarray, classes: list[str], rows: np.ndarray, bias: float) -> np.ndarray:
    """`probs` with RARE_INTENTS multiplied by e^bias on `rows` (the shared model's intercept + bias), renormalised."""
    if not bias:
        return probs
    out = probs.copy()
    cols = [classes.index(c) for c in RARE_INTENTS]
    out[np.ix_(rows, cols)] *= np.exp(bias)
    return out / out.sum(axis=1, keepdims=True)


def score(
    parts: list[dict], q_weight: float, threshold: float, i_weight: float, bias: float = 0.0, per_class: bool = False
) -> dict[str, tuple]:
    """group -> (questions F1, intents macro-F1[, F1 per intent]) over the pooled held-out folds."""
    rows, q_pred, i_pred = [], [], []
    for p in parts:
        n = len(p["rows"])
        if "qn" in p:
            qn = np.stack([1 - p["qn"], p["qn"]], axis=1)
            qh = np.stack([1 - p["qh"], p["qh"]], axis=1)
            q = combine(qn, qh, q_weight)[:, 1] if q_weight else qn[:, 1]
        else:  # intents alone: the gold question flag stands in for the consistency rule
            q = np.array([float(r.is_question or 0) for r in p["rows"]])
        classes = p.get("classes", ["other"])
        if "in" in p:
            text_p = _biased(p["in"], classes, np.flatnonzero(p["shared"]), bias)
            i = combine(text_p, p["ih"], i_weight) if i_weight else text_p
        else:
            i = np.ones((n, 1))
        for r, qp, ip, s in zip(p["rows"], q, i, p["sentiment"], strict=True):
            asks = bool(qp >= threshold)
            scores = dict(zip(classes, ip, strict=True))
            intent = consistent_intent(
                max(scores, key=scores.__getitem__), is_question=asks, sentiment=s, intent_scores=scores
            )[0]
            rows.append(r)
            q_pred.append(int(asks))
            i_pred.append(intent)
    out = {}
    for group, prefixes in GROUPS.items():
        idx = [n for n, r in enumerate(rows) if r.source.startswith(prefixes)]
        qi = [n for n in idx if rows[n].is_question is not None]
        ii = [n for n in idx if rows[n].intent is not None]
        qf = f1_score([rows[n].is_question for n in qi], [q_pred[n] for n in qi], zero_division=0)
        present = [c for c in INTENTS if c in {rows[n].intent for n in ii}]
        i_f = f1_score(
            [rows[n].intent for n in ii], [i_pred[n] for n in ii], labels=present, average="macro", zero_division=0
        )
        out[group] = (round(float(qf), 3), round(float(i_f), 3))
        if per_class:
            per = f1_score(
                [rows[n].intent for n in ii], [i_pred[n] for n in ii], labels=present, average=None, zero_division=0
            )
            out[group] += ({c: round(float(f), 3) for c, f in zip(present, per, strict=True)},)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join([*VARIANTS, *LEFT_OUT])}"
    )
    parser.add_argument("--clean", action="store_true", help="commercially usable rows only (the --clean models)")
    parser.add_argument("--cache", type=Path, help="an .npz file keeping the encodings between runs")
    parser.add_argument("--folds-cache", type=Path, help="a folder keeping each fold's shared fits between runs")
    parser.add_argument("--tasks", default="questions,intents", help="questions, intents or both (comma-separated)")
    args = parser.parse_args(argv)
    rows = request_rows(SEED, with_support_tweets=not args.clean)
    enc = CachedEncodings(args.cache)
    enc.warm([r.text for r in rows])
    counts = {g: sum(r.source.startswith(p) for r in rows) for g, p in GROUPS.items()}
    print("held-out rows per group:", counts)
    tasks = tuple(args.tasks.split(","))
    for name in args.variants.split(","):
        options, left_out = LEFT_OUT.get(name, (VARIANTS.get(name), ()))
        if options is None:
            raise SystemExit(f"unknown variant {name!r}")
        print(f"variant {name}: {options}" + (f", without {', '.join(left_out)}" if left_out else ""), flush=True)
        parts = held_out_parts(rows, options, enc, tasks, left_out, args.folds_cache)
        q_grid = ((0.0, 0.5, 1.0, 2.0), (0.4, 0.5, 0.6)) if "questions" in tasks else ((1.0,), (0.5,))
        i_grid = ((0.5, 1.0, 2.0), RARE_BIASES) if "intents" in tasks else ((1.0,), (0.0,))
        print(
            f"{'q weight':>8} {'thr':>5} {'i weight':>8} {'bias':>5}  "
            + "  ".join(f"{g + ' q / i':>28}" for g in GROUPS)
        )
        for qw, thr, iw, bias in itertools.product(*q_grid, *i_grid):
            figures = score(parts, qw, thr, iw, bias)
            print(
                f"{qw:>8} {thr:>5} {iw:>8} {bias:>5}  "
                + "  ".join(f"{f'{q:.3f} / {i:.3f}':>28}" for q, i in figures.values())
            )
        if "intents" in tasks:
            for bias in RARE_BIASES:
                figures = score(parts, QUESTION_HEAD_WEIGHT, 0.5, INTENT_HEAD_WEIGHT, bias, per_class=True)
                print(f"F1 per intent, head weights as shipped, bias {bias}:")
                for group, (_, _, per) in figures.items():
                    print(f"  {group}: {per}")


if __name__ == "__main__":
    main()
