"""Group question embeddings into needs without being told how many there are.

Average-linkage agglomerative clustering on cosine distance, cut at a fixed distance: the number
of clusters falls out of the data. Above ``EXACT_LIMIT`` points the same linkage runs on k-means
micro-cluster centroids first (so 50,000 questions stay well inside a minute on two cores).
Clusters smaller than ``min_size`` become noise (label -1) rather than polluting a cluster.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.spatial.distance import pdist

from nlp_models.faq.embedding import embed, normalise, projection
from nlp_models.faq.entities import conflicts

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5  # cosine distance at which the dendrogram is cut (tuned on held-out train/val)
DEFAULT_MIN_SIZE = 3  # fewer similar questions than this wait as noise
EXACT_LIMIT = 6000  # above this, cluster k-means micro-centroids instead of every point
MICRO_CLUSTERS = 4000  # micro-clusters above EXACT_LIMIT (fine enough for hundreds of needs)
MICRO_ITERATIONS = 6
SKETCH_DIMS = 256  # micro-clusters are found in this many dimensions (k-means is most of the time at scale)
ASSIGN_MARGIN = (
    0.1  # a new question joins if within threshold/2 + margin of a centroid (held-out: 82 % placed, 91 % right)
)
LINK_FACTOR = 1.0  # an EN-only and a JA-only cluster join when their centroids are this close (x threshold)
MONO_SHARE = 0.2  # a cluster with at most this share of the other language counts as one-language
RESCUE_FACTOR = 1.0  # a question left in a too-small group joins the nearest cluster within the cut of its centroid
MERGE_SHARE = 0.5  # a cluster smaller than this share of the median cluster is a fragment of a need ...
MERGE_DISTANCE = 0.7  # ... and joins its nearest cluster when their centroids are within this cosine distance


@dataclass
class Grouping:
    """The result of grouping: a label per text (-1 = noise) and one unit centroid per cluster."""

    labels: np.ndarray
    centroids: np.ndarray
    threshold: float

    @property
    def n_clusters(self) -> int:
        return int(self.centroids.shape[0])

    def members(self) -> dict[int, list[int]]:
        """Row indices per cluster label."""
        out: dict[int, list[int]] = {k: [] for k in range(self.n_clusters)}
        for i, lab in enumerate(self.labels.tolist()):
            if lab >= 0:
                out[lab].append(i)
        return out


def centroids_of(embeddings: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Unit-length mean embedding of each cluster 0..n_clusters-1 (noise rows ignored)."""
    mask = labels >= 0
    rows = labels[mask]
    cols = np.flatnonzero(mask)
    member = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_clusters, len(labels)))
    return normalise(np.asarray(member @ embeddings, dtype=np.float32))


def _average_linkage(x: np.ndarray, threshold: float) -> np.ndarray:
    """Flat cluster ids (0-based) from average-linkage on cosine distance cut at ``threshold``."""
    if len(x) == 1:
        return np.zeros(1, dtype=np.int64)
    dist = pdist(x.astype(np.float64), metric="cosine")
    np.clip(dist, 0.0, 2.0, out=dist)
    tree = linkage(dist, method="average")
    return fcluster(tree, t=threshold, criterion="distance").astype(np.int64) - 1


def _spherical_kmeans(x: np.ndarray, k: int, seed: int, iterations: int = MICRO_ITERATIONS) -> np.ndarray:
    """Cosine k-means in plain numpy (chunked matmuls): fine micro-clusters, cheap on two cores."""
    rng = np.random.default_rng(seed)
    cents = x[rng.choice(len(x), size=k, replace=False)].copy()
    assign_ = np.zeros(len(x), dtype=np.int64)
    for _ in range(iterations):
        for i in range(0, len(x), 8192):
            assign_[i : i + 8192] = np.argmax(x[i : i + 8192] @ cents.T, axis=1)
        fresh = centroids_of(x, assign_, k)
        empty = ~fresh.any(axis=1)
        fresh[empty] = cents[empty]
        cents = fresh
    return assign_


def _sketch(x: np.ndarray, seed: int) -> np.ndarray:
    """Rows in at most ``SKETCH_DIMS`` dimensions (a seeded random rotation, cosine kept to a few hundredths).

    Only where micro-clusters are formed: their centroids are then taken in the full space.
    """
    if x.shape[1] <= SKETCH_DIMS:
        return x
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((x.shape[1], SKETCH_DIMS)))
    return normalise(x @ q.astype(np.float32))


def _micro_then_link(x: np.ndarray, threshold: float, seed: int) -> np.ndarray:
    """Average-linkage over k-means micro-centroids, then each point takes its micro-cluster's label."""
    k = min(MICRO_CLUSTERS, len(x))
    micro = _spherical_kmeans(_sketch(x, seed), k, seed)
    cents = centroids_of(x, micro, k)
    present = np.unique(micro)
    link = _average_linkage(cents[present], threshold)
    lookup = np.full(k, -1, dtype=np.int64)
    lookup[present] = link
    return lookup[micro]


def _relabel(raw: np.ndarray, min_size: int) -> np.ndarray:
    """Drop clusters smaller than ``min_size`` to -1 and renumber the rest by size (largest = 0)."""
    ids, counts = np.unique(raw, return_counts=True)
    keep = [(c, i) for i, c in zip(ids.tolist(), counts.tolist(), strict=True) if c >= min_size]
    keep.sort(key=lambda ci: (-ci[0], ci[1]))
    mapping = {old: new for new, (_, old) in enumerate(keep)}
    return np.array([mapping.get(r, -1) for r in raw.tolist()], dtype=np.int64)


def default_threshold() -> float:
    """The cut threshold tuned with the shipped projection (held-out data), else the fallback."""
    stored = projection().params.get("threshold")
    return float(stored[0]) if stored is not None else DEFAULT_THRESHOLD


def join_radius(threshold: float) -> float:
    """Cosine distance to a centroid within which a question joins that cluster.

    Average linkage cut at ``t`` keeps mean pairwise distance under ``t``; for unit vectors a
    typical member then lies about ``t / 2`` from its centroid.
    """
    return threshold / 2 + ASSIGN_MARGIN


def _rescue(x: np.ndarray, labels: np.ndarray, centroids: np.ndarray, threshold: float) -> np.ndarray:
    """Questions left in too-small groups join the nearest formed cluster within the cut; the rest stay noise.

    Wider than a new question's join radius: these questions were close enough to something to be grouped,
    and on small feeds (a handful per need) a tight cut otherwise leaves a third of them out.
    """
    noise = np.flatnonzero(labels < 0)
    if len(noise) == 0 or len(centroids) == 0:
        return labels
    sims = x[noise] @ centroids.T
    best = sims.argmax(1)
    close = 1.0 - sims[np.arange(len(noise)), best] <= RESCUE_FACTOR * threshold
    labels = labels.copy()
    labels[noise[close]] = best[close]
    return labels


def group(
    texts: Sequence[str],
    *,
    embeddings: np.ndarray | None = None,
    threshold: float | None = None,
    min_size: int = DEFAULT_MIN_SIZE,
    seed: int = 0,
) -> Grouping:
    """Group questions by need; pass ``embeddings`` (from :func:`embed`) to skip embedding."""
    t = default_threshold() if threshold is None else threshold
    x = embed(texts) if embeddings is None else normalise(np.asarray(embeddings, dtype=np.float32))
    if len(x) == 0:
        return Grouping(np.zeros(0, dtype=np.int64), np.zeros((0, x.shape[1]), np.float32), t)
    raw = _average_linkage(x, t) if len(x) <= EXACT_LIMIT else _micro_then_link(x, t, seed)
    labels = _relabel(raw, min_size)
    n = int(labels.max()) + 1 if len(labels) else 0
    labels = _rescue(x, labels, centroids_of(x, labels, n), t)
    labels = merge_fragments(x, labels)
    if any(texts):  # bare embeddings (tests, benchmarks) have no words to read names or languages from
        labels = link_languages(texts, x, labels, t)
        labels = _by_size(split_by_names(texts, labels, min_size))
    n = int(labels.max()) + 1 if (labels >= 0).any() else 0
    log.info("grouped %d questions into %d clusters (%d noise)", len(x), n, int((labels < 0).sum()))
    return Grouping(labels, centroids_of(x, labels, n), t)


def merge_fragments(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Join each cluster much smaller than the median (smallest first) to its nearest cluster, if near enough.

    A fixed cut splits a need whose questions are worded more variously than most into a large part and
    fragments; on needs never seen in training that over-splitting is most of what the grouping gets wrong
    (cross-validated by need: see the model card). Names are split again afterwards, so PayPal and PayPay stay
    apart even when one was a fragment of the other.
    """
    n = int(labels.max()) + 1 if (labels >= 0).any() else 0
    if n < 3:
        return labels
    kept = labels >= 0
    member = csr_matrix((np.ones(int(kept.sum()), np.float32), (labels[kept], np.flatnonzero(kept))), (n, len(x)))
    sums = np.asarray(member @ x, dtype=np.float64)
    counts = np.bincount(labels[kept], minlength=n)
    target = np.arange(n)
    stuck: set[int] = set()  # nothing near enough: stays as it is
    while True:
        alive = np.flatnonzero(counts)
        small = MERGE_SHARE * float(np.median(counts[alive]))  # the median grows as fragments join
        order = [s for s in alive[np.argsort(counts[alive], kind="stable")].tolist() if counts[s] < small]
        order = [s for s in order if s not in stuck]
        if not order or len(alive) < 3:
            break
        s = order[0]
        cents = normalise(sums)
        sims = cents @ cents[s]
        sims[s] = -np.inf
        sims[counts == 0] = -np.inf
        best = int(np.argmax(sims))
        if 1.0 - float(sims[best]) > MERGE_DISTANCE:
            stuck.add(s)
            continue
        sums[best] += sums[s]
        counts[best] += counts[s]
        sums[s], counts[s] = 0.0, 0
        target[target == s] = best
    out = labels.copy()
    out[kept] = target[labels[kept]]
    return _by_size(out)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0.. by size (largest first), keeping noise at -1."""
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = sorted(zip(ids.tolist(), counts.tolist(), strict=True), key=lambda ic: (-ic[1], ic[0]))
    lookup = {old: new for new, (old, _) in enumerate(order)}
    return np.array([lookup.get(v, -1) for v in labels.tolist()], dtype=np.int64)


def link_languages(texts: Sequence[str], x: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Join an English-only and a Japanese-only cluster that are each other's nearest cross-language match.

    Language identity still pulls questions apart a little; a need asked in both languages should be one
    entry with a title in each. Only mutual nearest pairs within ``LINK_FACTOR * threshold`` are joined, and
    never two that name different services.
    """
    from nlp_models.faq.entities import about
    from nlp_models.faq.summary import language_of

    labels = _by_size(labels)
    n = int(labels.max()) + 1 if (labels >= 0).any() else 0
    if n < 2:
        return labels
    ja = np.array([language_of(t) == "ja" for t in texts])
    share = np.array([ja[labels == k].mean() for k in range(n)])
    en_ids, ja_ids = np.flatnonzero(share <= MONO_SHARE), np.flatnonzero(share >= 1 - MONO_SHARE)
    if len(en_ids) == 0 or len(ja_ids) == 0:
        return labels
    cents = centroids_of(x, labels, n)
    sims = cents[en_ids] @ cents[ja_ids].T
    names = [_dominant_names(texts, labels, k, about) for k in range(n)]
    best_ja, best_en = sims.argmax(1), sims.argmax(0)
    out = labels.copy()
    for a, b in enumerate(best_ja.tolist()):
        if best_en[b] != a or 1.0 - sims[a, b] > LINK_FACTOR * threshold:
            continue
        if conflicts(names[en_ids[a]], names[ja_ids[b]]):
            continue
        out[labels == ja_ids[b]] = en_ids[a]
    return out


def _dominant_names(texts: Sequence[str], labels: np.ndarray, k: int, about) -> dict[str, str]:  # noqa: ANN001
    counts: dict[str, Counter] = {}
    for i in np.flatnonzero(labels == k).tolist():
        for kind, name in about(texts[i]).items():
            counts.setdefault(kind, Counter())[name] += 1
    return {kind: c.most_common(1)[0][0] for kind, c in counts.items()}


def split_by_names(texts: Sequence[str], labels: np.ndarray, min_size: int) -> np.ndarray:
    """Questions about different named things never share a cluster (PayPal vs PayPay, size S vs XL).

    Per cluster and kind of name: the most-asked name keeps the cluster (with the questions that name
    nothing); every other name becomes a cluster of its own if it has ``min_size`` questions, else waits as
    noise. Services are strict; sizes and model numbers split only when two names each have a group.
    """
    from nlp_models.faq.entities import STRICT_KINDS, about

    named = [about(t) for t in texts]
    out = labels.copy()
    fresh = int(labels.max()) + 1 if len(labels) else 0
    for lab in [v for v in np.unique(labels).tolist() if v >= 0]:
        for kind in ("service", "size", "model"):
            idx = np.flatnonzero(out == lab)
            counts = Counter(named[i][kind] for i in idx.tolist() if kind in named[i])
            if len(counts) < 2:
                continue
            strict = kind in STRICT_KINDS
            if not strict and sum(1 for c in counts.values() if c >= min_size) < 2:
                continue
            dominant = max(counts, key=lambda name: (counts[name], name))
            for name, count in counts.items():
                if name == dominant or (not strict and count < min_size):
                    continue
                part = [i for i in idx.tolist() if named[i].get(kind) == name]
                out[part] = fresh if count >= min_size else -1
                fresh += count >= min_size
    return out


def assign(
    text_or_embedding: str | np.ndarray,
    centroids: np.ndarray,
    threshold: float | None = None,
    *,
    names: dict[str, str] | None = None,
    cluster_names: Sequence[dict[str, str]] | None = None,
) -> int:
    """Index of the cluster a new question joins, or -1 if no centroid is close enough.

    With ``names`` (what the question is about, ``entities.about``) and ``cluster_names`` (each cluster's
    most-asked names, ``entities.dominant``), a cluster about a different named service is never joined, as
    in the full re-grouping: a PayPay question skips the PayPal cluster for the closest one that fits.
    """
    if len(centroids) == 0:
        return -1
    if isinstance(text_or_embedding, str):
        vec = embed([text_or_embedding])[0]
    else:
        vec = normalise(np.asarray(text_or_embedding, dtype=np.float32).reshape(1, -1))[0]
    sims = centroids @ vec
    if names and cluster_names is not None:
        barred = [k for k, theirs in enumerate(cluster_names) if conflicts(names, theirs)]
        sims[barred] = -np.inf
    best = int(np.argmax(sims))
    t = default_threshold() if threshold is None else threshold
    return best if 1.0 - float(sims[best]) <= join_radius(t) else -1


def split_labels(embeddings: np.ndarray) -> np.ndarray:
    """Labels 0/1 (larger part first) for a lead's 'split': the top division of the average-linkage tree."""
    x = normalise(np.asarray(embeddings, dtype=np.float32))
    dist = np.clip(pdist(x.astype(np.float64), metric="cosine"), 0.0, 2.0)
    raw = fcluster(linkage(dist, method="average"), t=2, criterion="maxclust").astype(np.int64) - 1
    return _relabel(raw, 1)


CUT_GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def choose_threshold(
    embeddings: np.ndarray, grid: Sequence[float] = CUT_GRID, min_size: int = DEFAULT_MIN_SIZE
) -> float:
    """The cut whose clusters are best separated (silhouette on cosine distance, noise left out): no labels.

    How many needs a brand's questions hold is read from the questions themselves, not a fixed distance.
    """
    from sklearn.metrics import silhouette_score

    x = normalise(np.asarray(embeddings, dtype=np.float32))
    if len(x) < 4 or len(x) > EXACT_LIMIT:
        return default_threshold()
    tree = linkage(np.clip(pdist(x.astype(np.float64), metric="cosine"), 0.0, 2.0), method="average")
    best, best_score = default_threshold(), -1.0
    for t in grid:
        labels = _relabel(fcluster(tree, t=t, criterion="distance").astype(np.int64) - 1, min_size)
        kept = labels >= 0
        if len(np.unique(labels[kept])) < 2 or kept.sum() < 4:
            continue
        s = float(silhouette_score(x[kept], labels[kept], metric="cosine")) * kept.mean()  # noise costs
        if s > best_score:
            best, best_score = t, s
    return best
