"""The yardstick: a straightforward implementation of evaluator v1 (docs/evaluation.md).

It follows the written protocol step by step and calls scikit-learn once per query and once per threshold,
with no attempt at speed. ``benchmarks/bench_evaluator.py`` times it against ``repbench.evaluator`` and
``tests/test_evaluator_reference.py`` checks that both agree to 1e-9.
"""
from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import adjusted_mutual_info_score, average_precision_score, precision_recall_curve

from repbench.metrics.correlation import CORRELATION_UNIT, unit_vectors_fixed


def reference_tier(tier, proteins: list[str], vectors: np.ndarray) -> dict:
    """Scores of one tier (repbench.standards.Tier) for ORFs (n,) with vectors (n, d)."""
    row = {p: i for i, p in enumerate(proteins)}
    A = sorted(p for p in proteins if p in tier.members)
    n = len(A)
    # Step 2: S = Pearson correlation (fixed point, see repbench.metrics.correlation)
    Z = unit_vectors_fixed(vectors[[row[p] for p in A]])
    S = (Z @ Z.T) * CORRELATION_UNIT
    groups_of = {p: set() for p in A}
    for gid, members in tier.groups.items():
        for m in members:
            if m in groups_of:
                groups_of[m].add(gid)
    Y = np.array([[bool(groups_of[a] & groups_of[b]) for b in A] for a in A])
    # Steps 3-5: all pairs i < j
    iu = np.triu_indices(n, 1)
    y, s = Y[iu], S[iu]
    ap = average_precision_score(y, s)
    precision, recall, _ = precision_recall_curve(y, s)
    denominator = 0.25 * precision + recall
    f05 = np.where(denominator > 0, 1.25 * precision * recall / np.where(denominator > 0, denominator, 1), 0.0).max()
    # Step 6: one AP per query protein
    per_query = []
    for q in range(n):
        others = np.arange(n) != q
        if Y[q, others].any():
            per_query.append(average_precision_score(Y[q, others], S[q, others]))
    per_query = np.array(per_query)
    rng = np.random.default_rng(0)
    means = per_query[rng.integers(0, per_query.size, size=(1000, per_query.size))].mean(axis=1)
    ci = np.percentile(means, [2.5, 97.5])
    # Step 7: AMI over 10 seeded non-overlapping group sets
    ids = sorted(tier.groups)
    amis = []
    for r in range(10):
        order = np.random.default_rng(r).permutation(len(ids))
        taken, labels = [], []
        for g in order:
            members = [m for m in tier.groups[ids[g]] if m in row]
            if len(members) < 2 or any(m in taken for m in members):
                continue
            taken += members
            labels += [g] * len(members)
        idx = [A.index(m) for m in taken]
        D = np.maximum(0.0, 1.0 - S[np.ix_(idx, idx)])
        np.fill_diagonal(D, 0.0)
        tree = linkage(squareform(D, checks=False), method="average")
        heights = tree[:, 2]
        best = max(
            adjusted_mutual_info_score(labels, fcluster(tree, t, criterion="distance"))
            for t in np.linspace(heights.min(), heights.max(), 100)
        )
        amis.append(best)
    return {
        "proteins": n,
        "positive_pairs": int(y.sum()),
        "prevalence": float(y.mean()),
        "ap": float(ap),
        "f05": float(f05),
        "map": float(per_query.mean()),
        "map_ci": [float(ci[0]), float(ci[1])],
        "ami": float(np.mean(amis)),
        "ami_sd": float(np.std(amis)),
    }


def reference_evaluate(proteins: list[str], vectors: np.ndarray, standards, tiers=None) -> dict:
    return {t: reference_tier(standards.tiers[t], proteins, vectors) for t in (tiers or standards.tiers)}
