"""FAQ grouping: clustering behaviour, id matching, scoring, and the EN/JA case with the real encoder."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from nlp_models.faq import (
    assign,
    embed,
    group,
    key_phrases,
    match_clusters,
    representatives,
)
from nlp_models.faq.evaluation import hungarian_accuracy, score

DATA = Path(__file__).parent / "data"


def _blobs(n_per: int, centres: int, spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, 32))
    lab = np.repeat(np.arange(centres), n_per)
    x = c[lab] / np.linalg.norm(c[lab], axis=1, keepdims=True) + rng.normal(size=(len(lab), 32)) * spread
    return x.astype(np.float32), lab


def test_number_of_clusters_is_found_not_configured() -> None:
    for centres in (4, 9):
        x, lab = _blobs(10, centres, 0.05)
        g = group([""] * len(x), embeddings=x)
        assert g.n_clusters == centres
        assert score(list(lab), g.labels, 0).nmi == 1.0


def test_isolated_questions_stay_unclustered() -> None:
    x, _ = _blobs(10, 3, 0.05)
    rng = np.random.default_rng(1)
    loners = rng.normal(size=(2, 32)).astype(np.float32)
    g = group([""] * 32, embeddings=np.vstack([x, loners]))
    assert g.n_clusters == 3
    assert (g.labels[-2:] == -1).all()


def test_large_inputs_take_the_micro_cluster_path_and_agree() -> None:
    x, lab = _blobs(700, 10, 0.05)  # 7,000 rows > EXACT_LIMIT
    g = group([""] * len(x), embeddings=x)
    assert g.n_clusters == 10
    assert score(list(lab), g.labels, 0).accuracy == 1.0


def test_assign_joins_the_nearest_cluster_or_waits() -> None:
    x, _lab = _blobs(10, 3, 0.05)
    g = group([""] * len(x), embeddings=x)
    target = g.labels[0]
    assert assign(x[0] + 0.01, g.centroids, g.threshold) == target
    assert assign(-g.centroids.sum(0), g.centroids, g.threshold) == -1


def test_match_clusters_keeps_ids_when_membership_is_largely_the_same() -> None:
    old = {7: {1, 2, 3, 4}, 9: {10, 11, 12}, 12: {20, 21}}
    new = {0: {10, 11, 12, 13}, 1: {1, 2, 3, 4, 5}, 2: {30, 31, 32}}
    assert match_clusters(old, new) == {0: 9, 1: 7}


def test_match_clusters_gives_a_split_one_id_only() -> None:
    old = {5: set(range(10))}
    new = {0: set(range(7)), 1: set(range(7, 10))}
    assert match_clusters(old, new) == {0: 5}


def test_hungarian_accuracy_counts_noise_wrong() -> None:
    gold = ["a", "a", "b", "b"]
    assert hungarian_accuracy(gold, np.array([0, 0, 1, 1])) == 1.0
    assert hungarian_accuracy(gold, np.array([0, 0, 1, -1])) == 0.75
    assert hungarian_accuracy(gold, np.array([0, 0, 0, 0])) == 0.5


def test_key_phrases_prefer_words_that_set_a_cluster_apart() -> None:
    texts = ["refund for my broken mug", "how to get a refund", "refund please", "ship to canada?", "canada shipping"]
    phrases = key_phrases(texts, {0: [0, 1, 2], 1: [3, 4]})
    assert phrases[0][0] == "refund"
    assert "canada" in phrases[1]


def _paraphrases() -> tuple[list[str], list[str], list[str]]:
    with (DATA / "faq_en_ja_paraphrases.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r["label"] for r in rows], [r["language"] for r in rows]


@pytest.fixture(scope="module")
def paraphrase_grouping():
    texts, labels, langs = _paraphrases()
    x = embed(texts)
    return texts, labels, langs, x, group(texts, embeddings=x)


def test_embeddings_are_unit_length_and_cross_lingual(paraphrase_grouping) -> None:
    _texts, labels, langs, x, _ = paraphrase_grouping
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)
    lab = np.array(labels)
    ja = np.array(langs) == "ja"
    sims = x[ja] @ x[~ja].T  # each Japanese question against every English one
    same = lab[ja][:, None] == lab[~ja][None, :]
    # for most Japanese questions the closest English question asks for the same thing
    nearest_same = same[np.arange(same.shape[0]), sims.argmax(1)]
    assert nearest_same.mean() >= 0.8


def test_one_cluster_per_need_with_members_in_both_languages(paraphrase_grouping) -> None:
    _texts, labels, langs, _, g = paraphrase_grouping
    s = score(labels, g.labels, 0)
    assert s.nmi >= 0.8
    bilingual = 0
    for members in g.members().values():
        if {langs[i] for i in members} == {"en", "ja"}:
            bilingual += 1
    assert bilingual >= 6  # of 8 needs


def test_representatives_give_one_title_per_language(paraphrase_grouping) -> None:
    texts, _labels, langs, x, g = paraphrase_grouping
    mixed = next(m for m in g.members().values() if {langs[i] for i in m} == {"en", "ja"})
    titles = representatives(texts, x, mixed, g.centroids[g.labels[mixed[0]]])
    assert set(titles) == {"en", "ja"}
    assert titles["en"] in texts and titles["ja"] in texts


def test_cleaning_drops_where_a_post_was_found_but_keeps_the_question() -> None:
    from nlp_models.faq.text import clean_question

    brand = ["Komorebi Tea", "木漏れ日ティー", "komorebi_tea"]
    assert clean_question("@komorebi_tea do you ship to Canada? https://t.co/x", brand) == "do you ship to Canada?"
    assert clean_question("【木漏れ日ティー】海外発送ってやってる？ #木漏れ日ティー", brand) == "海外発送ってやってる？"
    assert clean_question("Komorebi Tea: any decaf options?", brand) == "any decaf options?"
    assert clean_question("#komorebitea", brand) == "#komorebitea"  # nothing left: keep the original
