"""Keep FAQ cluster ids stable across re-grouping by matching old and new memberships."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

MIN_JACCARD = 0.5  # below this overlap a new cluster is a different need and gets a new id


def match_clusters(
    old_members: Mapping[int, set[Hashable]],
    new_members: Mapping[int, set[Hashable]],
    min_jaccard: float = MIN_JACCARD,
) -> dict[int, int]:
    """Map new cluster label -> old cluster id where membership is largely the same (one-to-one).

    Pairs are chosen to maximise total overlap (Hungarian); a pair is kept only when its Jaccard
    similarity reaches ``min_jaccard``. New labels absent from the result are new clusters.
    """
    old_ids = list(old_members)
    new_ids = list(new_members)
    if not old_ids or not new_ids:
        return {}
    jac = np.zeros((len(new_ids), len(old_ids)))
    for a, nid in enumerate(new_ids):
        new_set = new_members[nid]
        for b, oid in enumerate(old_ids):
            old_set = old_members[oid]
            inter = len(new_set & old_set)
            if inter:
                jac[a, b] = inter / len(new_set | old_set)
    rows, cols = linear_sum_assignment(-jac)
    return {new_ids[r]: old_ids[c] for r, c in zip(rows, cols, strict=True) if jac[r, c] >= min_jaccard}
