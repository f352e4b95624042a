"""Train the question and intent models (n-gram + encoder heads) and print every dev figure.

    python -m nlp_models.training.train_requests          # trains, prints, saves the shipped (+labels) models
    python -m nlp_models.training.train_requests --clean  # saves the commercially clean ones instead
    python -m nlp_models.training.train_requests --corrections corrections.csv  # + a brand's corrections
    python -m nlp_models.training.train_requests --no-save

Training rows come from `request_data.request_rows`: Bitext (CDLA-Sharing), BANKING77 (CC BY 4.0), CLINC150
(CC BY 3.0), tweet acts (BSD-2-Clause), GoEmotions (Apache-2.0), our own posts (labels/casual_ja.csv,
labels/written_{en,ja}.csv, seeds_{en,ja}.csv): the "clean" models learn from those only. The default
("+labels") also learns from our labels of real CC BY-NC-SA posts (support and airline tweets), so it is
non-commercial; both are fitted and printed, and one is saved (the 5-fold figures behind that choice are in
nlp_models/weights/README.md). `--corrections` adds a brand's exported corrections to both.

Dev figures, on rows no model trained on: each public source's own dev split, one in five of our labelled
posts (md5 split), all our real-post labels for the clean models (which never see one), and tests/data/*.csv.
The intent and question heads read the shipped
sentiment encoder's pooled encodings, so retrain them (this script) whenever `train_encoder` changes it.
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support

from nlp_models.addressing import addresses_brand_from_text
from nlp_models.encoder_head import EncoderHead, combine
from nlp_models.evaluation_sets.build import is_evaluation_tweet
from nlp_models.pipeline import INTENT_HEAD_WEIGHT, QUESTION_HEAD_WEIGHT, load_model
from nlp_models.training.data import SEED
from nlp_models.training.fit import fit_linear
from nlp_models.training.request_data import KEYED_LABELS, LICENCES, RESERVED_SOURCE, Row, public_copies, request_rows
from nlp_models.types import INTENTS

log = logging.getLogger(__name__)
EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"
TRAINED_BY = "python -m nlp_models.training.train_requests"

VIEWS = [
    {"analyzer": "char_wb", "ngram_range": (1, 4), "n_features": 2**17},
    {"analyzer": "word", "ngram_range": (1, 2), "n_features": 2**16, "token_pattern": r"(?u)\b\w+\b|[?？]"},
]
QUESTION_C, INTENT_C = 1.0, 4.0
QUESTION_HEAD_C, INTENT_HEAD_C = 1.0, 0.3  # each picked from 0.3 / 1 / 3 on the dev splits below
# Issue 10, third pass (5-fold CV on our labels, `python -m nlp_models.training.cv_requests`; weights README).
# Both lost there (EN support+airline F1 0.776 without, 0.773 with the flag, 0.758 with the flag and copies;
# EN general tweets 0.624 / 0.575 / 0.450), so neither ships; the options stay for the next labels.
QUESTION_FLAG = False
PUBLIC_COPIES = 0.0
# Issue 10, fourth pass: the intent models' per-language and rare-class choices (5-fold CV; weights README).
JA_INTENT_SHARE = 0.0  # > 0: Japanese rows reweighted to this share of the English rows' total weight
JA_INTENTS = "own"  # "": one intent model serves both languages; "ngram": a Japanese n-gram model beside the shared
# head; "own": a Japanese n-gram model and head (`intents_ja`, `intents_ja_head`), picked by language at run time
RARE_BIAS = 0.0  # added to the shared n-gram intent model's intercept for RARE_INTENTS (log-odds)
RARE_INTENTS = ("order_status", "product_question", "returns_refunds")


class Encodings:
    """The shipped encoder's pooled encoding per text, computed once per run."""

    def __init__(self) -> None:
        self.encoder = load_model("sentiment_encoder")
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._cache})
        if missing:
            pooled = self.encoder.encode(missing)[1]
            self._cache.update(zip(missing, pooled, strict=True))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def _fit_head(
    name: str, version: str, rows: list[Row], labels: list[str], classes: list[str], C: float, inputs: list[str], enc
) -> EncoderHead:
    head = EncoderHead(name, version, classes, np.zeros(0), np.zeros(0), "sentiment_encoder", "", TRAINED_BY)
    head.inputs = inputs
    X = head.features(enc([r.text for r in rows]), np.array([r.addresses_brand for r in rows]))
    clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=SEED)
    clf.fit(X, labels, sample_weight=[r.weight for r in rows])
    if len(classes) == 2:  # sklearn keeps one row for the positive class: spell out both for the softmax
        coef = np.vstack([np.zeros_like(clf.coef_[0]), clf.coef_[0]])
        intercept = np.array([0.0, clf.intercept_[0]])
    else:
        order = [list(clf.classes_).index(c) for c in classes]
        coef, intercept = clf.coef_[order], clf.intercept_[order]
    head.coef, head.intercept = coef, intercept
    head.encoder_version = enc.encoder.version
    return head


@dataclass(frozen=True)
class Options:
    """Training choices compared by `cv_requests` (5-fold cross-validation on our labels)."""

    question_flag: bool = QUESTION_FLAG  # the n-gram question model reads addresses_brand too
    public_copies: float = PUBLIC_COPIES  # weight of `request_data.public_copies` rows for questions (0: none)
    ja_intent_share: float = JA_INTENT_SHARE
    ja_intents: str = JA_INTENTS
    rare_bias: float = RARE_BIAS


def _reweighted(rows: list[Row], lang: str, share: float) -> list[Row]:
    """`rows` with those in `lang` scaled so their total weight is `share` times the others' (0: unchanged)."""
    ours = sum(r.weight for r in rows if r.lang == lang)
    others = sum(r.weight for r in rows if r.lang != lang)
    if not share or not ours:
        return rows
    scale = share * others / ours
    return [replace(r, weight=r.weight * scale) if r.lang == lang else r for r in rows]


def intent_models(
    name: str, rows: list[Row], enc, *, head: bool = True, rare_bias: float = 0.0, version: int = 1
) -> dict:
    """An n-gram intent model `name` (and its head `<name>_head`) fitted on `rows`."""
    model = fit_linear(
        name,
        f"{name}-linear-{version}",
        [r.text for r in rows],
        [r.intent for r in rows],  # type: ignore[misc]
        weights=[r.weight for r in rows],
        views=VIEWS,
        cue_scale=1.0,
        C=INTENT_C,
        seed=SEED,
    )
    for intent in RARE_INTENTS if rare_bias else ():
        model.intercept[model.classes.index(intent)] += rare_bias
    out = {name: model}
    if head:
        labels = [str(r.intent) for r in rows]
        out[f"{name}_head"] = _fit_head(
            f"{name}_head", f"{name}_head-{version}", rows, labels, model.classes, INTENT_HEAD_C, ["encoding"], enc
        )
    return out


def fit_models(
    rows: list[Row],
    enc: Encodings,
    options: Options = Options(),  # noqa: B008 - frozen
    tasks: tuple[str, ...] = ("questions", "intents"),
) -> dict:
    """The models of `tasks` (each an n-gram model and its head) from the training rows of `rows`."""
    train = [r for r in rows if r.split == "train"]
    models = {}
    if "questions" in tasks:
        q_rows = [r for r in train if r.is_question is not None]
        if options.public_copies:  # the question models only: a copy keeps its topic, so intents learn nothing new
            q_rows += public_copies(q_rows, options.public_copies)
        models["questions"] = fit_linear(
            "questions",
            "questions-linear-3",
            [r.text for r in q_rows],
            [str(r.is_question) for r in q_rows],
            weights=[r.weight for r in q_rows],
            views=VIEWS,
            cue_scale=1.0,
            C=QUESTION_C,
            seed=SEED,
            addresses_brand=[r.addresses_brand for r in q_rows] if options.question_flag else None,
        )
        models["questions_head"] = _fit_head(
            "questions_head",
            "questions_head-2",
            q_rows,
            [str(r.is_question) for r in q_rows],
            models["questions"].classes,
            QUESTION_HEAD_C,
            ["encoding", "addresses_brand"],
            enc,
        )
    if "intents" in tasks:
        i_rows = [r for r in train if r.intent is not None]
        models |= intent_models(
            "intents", _reweighted(i_rows, "ja", options.ja_intent_share), enc, rare_bias=options.rare_bias, version=3
        )
        if options.ja_intents:
            ja_rows = [r for r in i_rows if r.lang == "ja"]
            models |= intent_models("intents_ja", ja_rows, enc, head=options.ja_intents == "own")
    return models


def intent_parts(models: dict, texts: list[str], langs: list[str], e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n-gram, head) intent probabilities per text, each from the model its language gets at run time."""
    text_p, head_p = models["intents"].predict_proba(texts), models["intents_head"].predict_proba(e)
    ja = [k for k, lang in enumerate(langs) if lang == "ja"]
    if "intents_ja" in models and ja:
        assert models["intents_ja"].classes == models["intents"].classes
        text_p[ja] = models["intents_ja"].predict_proba([texts[k] for k in ja])
        head_p[ja] = models.get("intents_ja_head", models["intents_head"]).predict_proba(e[ja])
    return text_p, head_p


def predict(
    models: dict, texts: list[str], addressed: list[int], langs: list[str], enc: Encodings
) -> tuple[np.ndarray, list[str]]:
    """(question probability, intent) per text, exactly as the pipeline combines them."""
    e = enc(texts)
    q = combine(
        models["questions"].predict_proba(texts, addressed),
        models["questions_head"].predict_proba(e, np.array(addressed)),
        QUESTION_HEAD_WEIGHT,
    )[:, models["questions"].classes.index("1")]
    i = combine(*intent_parts(models, texts, langs, e), INTENT_HEAD_WEIGHT)
    return q, [models["intents"].classes[k] for k in i.argmax(axis=1)]


def _tests_file(name: str) -> tuple[list[str], list[str]]:
    with (EVAL_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    column = "is_question" if name.startswith("questions") else "intent"
    return [r["text"] for r in rows], [r[column] for r in rows]


DevSet = tuple[list[str], list[int], list[str], str, list[str]]


def _dev_set(rows: list[Row], task: str) -> DevSet:
    gold = [str(r.is_question) if task == "questions" else str(r.intent) for r in rows]
    return [r.text for r in rows], [r.addresses_brand for r in rows], gold, task, [r.lang for r in rows]


def dev_sets(rows: list[Row]) -> dict[str, DevSet]:
    """name -> (texts, addresses_brand, gold, task, languages) for every held-out set we report."""
    out: dict[str, DevSet] = {}
    ours = [*OUR_REAL_LABELS, "labels/casual_ja.csv", "labels/written_en.csv", "labels/written_ja.csv"]
    picks = {
        "questions": ["tweet_acts_en", *ours],
        "intents": ["intents/bitext_support", "intents/banking77", *ours],
    }
    for task, sources in picks.items():
        for source in sources:
            dev = [
                r
                for r in rows
                if r.source == source
                and r.split == "dev"
                and (r.is_question if task == "questions" else r.intent) is not None
            ]
            out[f"{task}: {source} (dev split)"] = _dev_set(dev, task)
        tweets = [r for r in rows if r.source in OUR_REAL_LABELS and not r.commercial]
        out[f"{task}: our real-post labels (all {len(tweets)}; the clean models never saw one)"] = _dev_set(
            tweets, task
        )
        for lang in ("en", "ja"):
            texts, gold = _tests_file(f"{task}_{lang}")
            out[f"{task}: tests/data/{task}_{lang}.csv"] = (
                texts,
                [addresses_brand_from_text(t) for t in texts],
                gold,
                task,
                [lang] * len(texts),
            )
    return out


def measure(models: dict, sets: dict, enc: Encodings) -> dict[str, dict]:
    figures: dict[str, dict] = {}
    if not models:
        return figures
    for name, (texts, addressed, gold, task, langs) in sets.items():
        if not texts:
            continue
        q, intents = predict(models, texts, addressed, langs, enc)
        if task == "questions":
            pred = ["1" if p >= 0.5 else "0" for p in q]
            p, r, f, _ = precision_recall_fscore_support(gold, pred, pos_label="1", average="binary", zero_division=0)
            figures[name] = {"n": len(texts), "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}
        else:
            present = [c for c in INTENTS if c in set(gold)]
            per = f1_score(gold, intents, labels=present, average=None, zero_division=0)
            figures[name] = {"n": len(texts), "macro_f1": round(float(per.mean()), 3)}
    return figures


OUR_REAL_LABELS = tuple(f"labels/{name}" for name in KEYED_LABELS)
RESERVED_LABELS = tuple(f"labels/{name}" for name, shared in KEYED_LABELS.items() if shared == RESERVED_SOURCE)
SAW_IT = "n/a (trained on 4 in 5 of these rows)"


def _figure(fig: dict) -> float:
    return fig.get("f1", fig.get("macro_f1", 0.0))


def _shown(fig: dict | None) -> str:
    return "-" if fig is None else str(_figure(fig))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-save", action="store_true", help="measure only; leave the shipped weights alone")
    parser.add_argument(
        "--clean",
        action="store_true",
        help="save the commercially clean models (no CC BY-NC-SA rows) instead of the default (+labels)",
    )
    parser.add_argument(
        "--corrections", type=Path, metavar="FILE", help="a CSV from `kikimimi export corrections`: extra labelled rows"
    )
    parser.add_argument(
        "--shipped-only",
        action="store_true",
        help="fit only the variant that is saved (half the time; the other's figures print as -)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    rows = request_rows(SEED, with_support_tweets=True, corrections=args.corrections)
    eval_texts = {
        t for lang in ("en", "ja") for name in ("questions", "intents") for t in _tests_file(f"{name}_{lang}")[0]
    }
    overlap = [r.text for r in rows if r.split == "train" and r.text in eval_texts]
    if overlap:
        raise SystemExit(f"training rows overlap tests/data: {overlap[:3]}")
    if any(r.source in RESERVED_LABELS and is_evaluation_tweet(r.text) for r in rows):
        raise SystemExit("a labelled support tweet is in the evaluation partition")
    enc = Encodings()
    sets = dev_sets(rows)
    clean_rows = [r for r in rows if r.commercial]
    start = time.time()
    clean, full = (
        fit_models(variant_rows, enc) if not args.shipped_only or args.clean == is_clean else {}
        for variant_rows, is_clean in ((clean_rows, True), (rows, False))
    )
    print(f"models fitted in {time.time() - start:.0f}s ({len(clean_rows)} clean rows, {len(rows)} in all)")
    clean_figures, full_figures = measure(clean, sets, enc), measure(full, sets, enc)

    def both(name: str) -> str:
        seen = "(seen)" if "(all " in name else _shown(full_figures.get(name))
        return f"{_shown(clean_figures.get(name))} / {seen}"

    print(f"{'set':<84} {'clean / +labels':>17}")
    for name in clean_figures or full_figures:
        print(f"{name:<84} {both(name):>17}")
    shipped, shipped_rows = (clean, clean_rows) if args.clean else (full, rows)

    def trained_on(name: str) -> list[str]:
        # the Japanese intent model (and head) learn from the Japanese rows alone
        learned = [r for r in shipped_rows if r.split == "train" and (r.lang == "ja" or "_ja" not in name)]
        return [
            f"{s}: {sum(r.source == s for r in learned)} rows ({LICENCES[s]})"
            for s in sorted({r.source for r in learned})
        ]

    note = (
        "Figures on rows no model trained on (each source's dev split; our labels' md5 fifth). 'clean' learned only "
        "from commercially usable data (with our labels of BSD-2-Clause general tweets); '+labels' also from our "
        "labels of CC BY-NC-SA posts (support and airline tweets). "
        f"Shipped: {'clean' if args.clean else '+labels (non-commercial)'}."
    )
    for name, model in shipped.items():
        task = "questions" if name.startswith("questions") else "intents"
        sources = trained_on(name)
        model.card = {
            "trained_on": sources,
            "licence": "NON-COMMERCIAL: learned from our labels of CC BY-NC-SA 4.0 posts (--clean retrains a clean one)"
            if any("non-commercial" in s for s in sources)
            else "commercially usable sources only",
            "dev figures (combined pipeline; clean / +labels)": {
                k: both(k) for k in clean_figures or full_figures if k.startswith(task)
            },
            "note": note
            + (
                ""
                if any("non-commercial" in s for s in sources)
                else " This model learned from commercially usable rows only."
            ),
            "trained by": TRAINED_BY
            + (" --clean" if args.clean else "")
            + (" --shipped-only" if args.shipped_only else "")
            + " (seeded: the same command writes these files)",
            "options (5-fold CV, cv_requests)": f"{Options()}; question head weight {QUESTION_HEAD_WEIGHT}, "
            f"intent head weight {INTENT_HEAD_WEIGHT}",
            "seed": SEED,
        }
        if not args.no_save:
            model.save()
    if not args.no_save:
        print(f"saved {', '.join(shipped)} ({'clean' if args.clean else '+labels'})")


if __name__ == "__main__":
    main()
