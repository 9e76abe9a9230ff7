"""The yardstick: a straightforward, independent implementation of the evaluator (docs/evaluation.md).

It follows the written protocol step by step with plain loops, numpy, scipy and scikit-learn, with no attempt
at speed (one AP per query and one AMI per threshold's cut, each written out as its definition), and imports
nothing from the code it checks (``repbench.metrics``, ``repbench.evaluator``); it reads the tiers from the
``repbench.standards.Tier`` it is given. ``benchmarks/bench_evaluator.py`` times it against the fast evaluator
and ``tests/test_evaluator.py`` checks that both agree to 1e-9 on every tier.
"""

from __future__ import annotations

import numpy as np
import sklearn
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from scipy.special import gammaln
from sklearn.metrics import average_precision_score, precision_recall_curve

SCALE = 2**26  # step 2: components are multiples of 2**-26, products multiples of 2**-52
N_DRAWS, N_THRESHOLDS, N_RESAMPLES = 10, 100, 1000


def left_to_right_sum(values) -> float:
    """Step 2's sums: float64 additions in index order, starting from 0.0."""
    total = 0.0
    for v in values:
        total += float(v)
    return total


def fixed_point_vectors(vectors: np.ndarray) -> np.ndarray:
    """Step 2: centre on the mean, divide by the Euclidean norm, z = rint(x * 2**26), as int64 (n, d)."""
    rows = []
    for row in np.asarray(vectors, dtype=np.float64):
        centred = row - left_to_right_sum(row) / row.size
        norm = np.sqrt(left_to_right_sum(centred * centred))
        rows.append(np.rint(centred / norm * SCALE))
    return np.array(rows).astype(np.int64)


def correlations(vectors: np.ndarray) -> np.ndarray:
    """S (n, n) float64: exact integer dot products (int64 arithmetic, no BLAS) times 2**-52."""
    z = fixed_point_vectors(vectors)
    return (z @ z.T).astype(np.float64) / float(SCALE * SCALE)


def ami_by_definition(labels_true, labels_pred) -> float:
    """sklearn's ``adjusted_mutual_info_score`` (arithmetic mean) written out as its definition (Vinh et al. 2010):
    (MI - E[MI]) / (mean(H_true, H_pred) - E[MI]), E[MI] summed over every (class, cluster) cell and every
    possible count of it under the hypergeometric model. Checked against scikit-learn in tests/test_evaluator.py;
    written out because scikit-learn's argument checks make thousands of small calls slow."""
    _, u = np.unique(labels_true, return_inverse=True)
    _, v = np.unique(labels_pred, return_inverse=True)
    n = u.size
    a, b = np.bincount(u), np.bincount(v)
    if a.size == b.size == 1:
        return 1.0
    cell, nij = np.unique(u * b.size + v, return_counts=True)
    ai, bj = a[cell // b.size], b[cell % b.size]
    mi = max(float(np.sum(nij / n * np.log(n * nij / (ai * bj)))), 0.0)
    h_true, h_pred = (float(-np.sum(c / n * np.log(c / n))) for c in (a, b))
    # E[MI]: every class i x cluster j, every count k = max(1, a_i + b_j - n) .. min(a_i, b_j)
    A, B = np.meshgrid(a, b, indexing="ij")
    A, B = A.ravel(), B.ravel()
    lo, hi = np.maximum(1, A + B - n), np.minimum(A, B)
    reps = np.maximum(hi - lo + 1, 0)
    A, B, lo = np.repeat(A, reps), np.repeat(B, reps), np.repeat(lo, reps)
    k = lo + np.arange(A.size) - np.repeat(np.cumsum(reps) - reps, reps)
    log_p = (
        gammaln(A + 1)
        + gammaln(B + 1)
        + gammaln(n - A + 1)
        + gammaln(n - B + 1)
        - gammaln(n + 1)
        - gammaln(k + 1)
        - gammaln(A - k + 1)
        - gammaln(B - k + 1)
        - gammaln(n - A - B + k + 1)
    )
    emi = float(np.sum(k / n * np.log(n * k / (A * B)) * np.exp(log_p)))
    denominator = (h_true + h_pred) / 2 - emi
    eps = np.finfo(np.float64).eps
    denominator = min(denominator, -eps) if denominator < 0 else max(denominator, eps)
    return (mi - emi) / denominator


def ami_draw(tier, in_u: set[str], position: dict[str, int], S: np.ndarray, r: int) -> float:
    """Step 7, one draw: seeded non-overlapping groups, average linkage, the best of 100 distance cuts."""
    ids = sorted(tier.groups)
    order = np.random.default_rng(r).permutation(len(ids))
    taken: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    for g in order:
        members = [m for m in tier.groups[ids[g]] if m in in_u]
        if len(members) < 2 or any(m in seen for m in members):
            continue
        seen.update(members)
        taken += members
        labels += [int(g)] * len(members)
    if len(taken) < 2:
        return float("nan")
    idx = [position[m] for m in taken]
    D = np.maximum(0.0, 1.0 - S[np.ix_(idx, idx)])
    np.fill_diagonal(D, 0.0)
    tree = linkage(squareform(D, checks=False), method="average")
    heights = tree[:, 2]
    scored: dict[tuple, float] = {}  # equal cuts give equal AMI: score each distinct cut once
    for t in np.linspace(heights.min(), heights.max(), N_THRESHOLDS):
        cut = tuple(fcluster(tree, t, criterion="distance").tolist())
        if cut not in scored:
            scored[cut] = ami_by_definition(labels, cut)
    return max(scored.values())


def reference_tier(tier, proteins: list[str], vectors: np.ndarray) -> dict:
    """Scores of one tier (repbench.standards.Tier) for ORFs (n,) with vectors (n, d)."""
    row = {p: i for i, p in enumerate(proteins)}
    # Step 1: A = the submitted proteins that belong to a group, sorted
    A = sorted(p for p in proteins if p in tier.members)
    n = len(A)
    position = {p: i for i, p in enumerate(A)}
    groups_of: dict[str, set[str]] = {p: set() for p in A}
    for gid, members in tier.groups.items():
        for m in members:
            if m in groups_of:
                groups_of[m].add(gid)
    out = {"proteins": n, "groups": len({g for gs in groups_of.values() for g in gs}), "pairs": n * (n - 1) // 2}
    if n < 2:
        return {**out, "positive_pairs": 0, "map_queries": 0, "skipped": "fewer than 2"}
    # Step 2
    S = correlations(np.asarray(vectors)[[row[p] for p in A]])
    # Step 3: all pairs i < j, labelled 1 when they share a group
    Y = np.array([[bool(groups_of[a] & groups_of[b]) for b in A] for a in A])
    iu = np.triu_indices(n, 1)
    y, s = Y[iu], S[iu]
    out["positive_pairs"] = int(y.sum())
    if not y.any():
        return {**out, "map_queries": 0, "skipped": "no positive pair"}
    # Step 4 and 5
    ap = average_precision_score(y, s)
    precision, recall, _ = precision_recall_curve(y, s)
    denominator = 0.25 * precision + recall
    f05 = np.where(denominator > 0, 1.25 * precision * recall / np.where(denominator > 0, denominator, 1), 0.0).max()
    # Step 6: one AP per query protein with a positive partner, and the bootstrap interval of their mean
    per_query = []
    for q in range(n):
        others = np.arange(n) != q
        y_q, s_q = Y[q, others], S[q, others]
        if y_q.any():
            # sklearn's AP with ties, by its definition: the mean over positives of the precision among all
            # items scoring >= the positive's score (average_precision_score itself is slow for 1,000 calls)
            at_least = s_q[None, :] >= s_q[y_q][:, None]  # (positives, items)
            per_query.append(np.mean((at_least & y_q).sum(axis=1) / at_least.sum(axis=1)))
    per_query = np.array(per_query)
    rng = np.random.default_rng(0)
    means = per_query[rng.integers(0, per_query.size, size=(N_RESAMPLES, per_query.size))].mean(axis=1)
    ci = np.percentile(means, [2.5, 97.5])
    # Step 7: AMI over 10 seeded draws; NaN draws left out
    amis = np.array([ami_draw(tier, set(proteins), position, S, r) for r in range(N_DRAWS)])
    amis = amis[np.isfinite(amis)]
    return {
        **out,
        "prevalence": float(y.mean()),
        "ap": float(ap),
        "f05": float(f05),
        "map": float(per_query.mean()),
        "map_ci": [float(ci[0]), float(ci[1])],
        "map_queries": int(per_query.size),
        "ami": float(np.mean(amis)) if amis.size else None,
        "ami_sd": float(np.std(amis)) if amis.size else None,
    }


def reference_evaluate(proteins: list[str], vectors: np.ndarray, standards, tiers=None) -> dict:
    # scikit-learn's argument checks cost more than the metrics on these small inputs: skip them (same numbers)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return {t: reference_tier(standards.tiers[t], proteins, vectors) for t in (tiers or standards.tiers)}
