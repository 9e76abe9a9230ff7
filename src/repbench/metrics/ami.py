"""Adjusted mutual information, and the best AMI over cuts of an average-linkage tree.

``adjusted_mutual_info`` reproduces ``sklearn.metrics.adjusted_mutual_info_score`` (arithmetic
normalisation) to ~1e-12. Two things make it fast enough to score 100 cuts x 10 draws x 4 tiers in
about a second:

- the expected mutual information (EMI) depends only on the multiset of (row total a, column total b)
  pairs of the contingency table, so it is a product ``count(a) @ EMI_TERM[a, b] @ count(b)`` with the
  terms computed once per distinct pair of sizes, from a table of log-factorials;
- the cuts of the tree are made by replaying its merges in order (each leaf carries its cluster's id),
  not by one ``fcluster`` call per threshold.
"""
from __future__ import annotations

from math import log

import numpy as np
from scipy.cluster.hierarchy import linkage
from scipy.special import gammaln

_EPS = np.finfo(np.float64).eps


def _entropy(counts: np.ndarray) -> float:
    counts = counts[counts > 0].astype(np.float64)
    if counts.size <= 1:
        return 0.0
    total = counts.sum()
    return float(-np.sum((counts / total) * (np.log(counts) - log(total))))


def _mutual_info(true_idx: np.ndarray, pred_idx: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """MI of two labelings given as integer codes, with their code counts a and b (zeros allowed)."""
    n = true_idx.size
    if np.count_nonzero(a) == 1 or np.count_nonzero(b) == 1:
        return 0.0
    nz, nij = np.unique(true_idx * b.size + pred_idx, return_counts=True)  # non-empty contingency cells
    nij = nij.astype(np.float64)
    outer = a[nz // b.size].astype(np.int64) * b[nz % b.size].astype(np.int64)
    p = nij / n
    mi = p * (np.log(nij) - log(n)) + p * (-np.log(outer) + log(n) + log(n))
    mi = np.where(np.abs(mi) < _EPS, 0.0, mi)
    return max(float(mi.sum()), 0.0)


def emi_terms(a_values: np.ndarray, b_values: np.ndarray, n: int) -> np.ndarray:
    """EMI contribution of one row of total a and one column of total b: (len(a_values), len(b_values)).

    Same terms as sklearn's ``expected_mutual_information``, summed over nij = max(1, a+b-n) .. min(a, b).
    """
    log_fact = gammaln(np.arange(n + 1, dtype=np.float64) + 1.0)  # log(k!) for k = 0..n
    b = b_values.astype(np.int64)[:, None]
    table = np.zeros((a_values.size, b_values.size))
    for row, a in enumerate(a_values.astype(np.int64).tolist()):
        nij = np.arange(1, a + 1, dtype=np.int64)[None, :]
        valid = (nij >= a + b - n) & (nij <= b)
        nij_c = np.where(valid, nij, 1)
        rest = np.where(valid, n - a - b + nij_c, 0)
        gln = (
            log_fact[a] + log_fact[b] + log_fact[n - a] + log_fact[n - b]
            - (log_fact[nij_c] + log_fact[n])
            - log_fact[a - nij_c] - log_fact[np.where(valid, b - nij_c, 0)] - log_fact[rest]
        )
        gln = np.where(valid, gln, -np.inf)  # exp(-inf) = 0: nij outside its range adds nothing
        table[row] = ((nij_c / n) * (log(n) + np.log(nij_c) - log(a) - np.log(b)) * np.exp(gln)).sum(axis=1)
    return table


def _ami_from_parts(mi: float, emi: float, a: np.ndarray, b: np.ndarray) -> float:
    normalizer = (_entropy(a) + _entropy(b)) / 2.0
    denominator = normalizer - emi
    denominator = min(denominator, -_EPS) if denominator < 0 else max(denominator, _EPS)
    return float((mi - emi) / denominator)


def adjusted_mutual_info(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """AMI between two labelings of the same n items (any labels), arithmetic normalisation."""
    true_idx = np.unique(np.asarray(labels_true), return_inverse=True)[1].ravel()
    pred_idx = np.unique(np.asarray(labels_pred), return_inverse=True)[1].ravel()
    a, b = np.bincount(true_idx), np.bincount(pred_idx)
    if a.size == b.size == 1:
        return 1.0
    mi = _mutual_info(true_idx, pred_idx, a, b)
    emi = 0.0
    if a.size > 1 and b.size > 1:
        a_vals, a_mult = np.unique(a, return_counts=True)
        b_vals, b_mult = np.unique(b, return_counts=True)
        emi = float(a_mult @ emi_terms(a_vals, b_vals, true_idx.size) @ b_mult)
    return _ami_from_parts(mi, emi, a, b)


def tree_cuts(tree: np.ndarray, merge_counts: list[int]) -> list[np.ndarray]:
    """Cluster ids of the leaves after the first k merges of a linkage tree, for each k (ascending).

    tree: scipy linkage matrix (m-1, 4) with non-decreasing heights. Returns int64 arrays (m,) whose values
    are leaf ids in 0..m-1 (one per cluster; not dense).
    """
    m = tree.shape[0] + 1
    cluster_of = np.arange(m)
    members: dict[int, list[int]] = {i: [i] for i in range(m)}
    cuts, done = [], 0
    for k in merge_counts:
        for i in range(done, k):
            big, small = members.pop(int(tree[i, 0])), members.pop(int(tree[i, 1]))
            if len(big) < len(small):
                big, small = small, big
            cluster_of[small] = cluster_of[big[0]]
            big.extend(small)
            members[m + i] = big
        done = k
        cuts.append(cluster_of.copy())
    return cuts


def _entropies(sizes: np.ndarray, n: int) -> np.ndarray:
    """Entropy (nats) of each row of cluster sizes (k, c), zeros ignored; 0 for a single cluster."""
    p = sizes / n
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(sizes > 0, p * (np.log(np.where(sizes > 0, sizes, 1)) - log(n)), 0.0)
    h = -terms.sum(axis=1)
    return np.where(np.count_nonzero(sizes, axis=1) <= 1, 0.0, h)


def best_cut_ami(labels: np.ndarray, condensed_distances: np.ndarray, n_thresholds: int = 100) -> float:
    """Highest AMI between labels (m,) and the cuts of the average-linkage tree of the distances.

    condensed_distances: (m*(m-1)/2,) as scipy's ``squareform`` gives. The tree is cut as
    ``fcluster(criterion="distance")`` does at ``n_thresholds`` heights evenly spaced from the lowest to
    the highest merge: a cut at t applies every merge of height <= t. Equal cuts are scored once, and all
    cuts are scored together: one contingency count, one EMI product, vectorised over cuts.
    """
    true_idx = np.unique(labels, return_inverse=True)[1].ravel().astype(np.int64)
    n = true_idx.size
    tree = linkage(condensed_distances, method="average")
    heights = tree[:, 2]
    thresholds = np.linspace(heights.min(), heights.max(), n_thresholds)
    cuts = np.array(tree_cuts(tree, sorted({int(np.count_nonzero(heights <= t)) for t in thresholds})))  # (k, n)
    k = cuts.shape[0]
    a = np.bincount(true_idx)
    rows = np.repeat(np.arange(k), n)
    b = np.bincount(rows * n + cuts.ravel(), minlength=k * n).reshape(k, n)  # cluster sizes per cut (ids are leaf ids)
    n_clusters = np.count_nonzero(b, axis=1)

    # mutual information: the non-empty contingency cells of every cut at once
    cells, nij = np.unique((rows * a.size + np.tile(true_idx, k)) * n + cuts.ravel(), return_counts=True)
    cut_of, rest = np.divmod(cells, a.size * n)
    true_of, pred_of = np.divmod(rest, n)
    p = nij / n
    outer = a[true_of].astype(np.int64) * b[cut_of, pred_of].astype(np.int64)
    mi_cell = p * (np.log(nij) - log(n)) + p * (-np.log(outer) + log(n) + log(n))
    mi_cell = np.where(np.abs(mi_cell) < _EPS, 0.0, mi_cell)
    mi = np.maximum(np.bincount(cut_of, weights=mi_cell, minlength=k), 0.0)
    single = (a.size == 1) | (n_clusters == 1)
    mi = np.where(single, 0.0, mi)

    # expected mutual information: count(a) @ EMI_TERM[a, b] @ count(b), per cut
    a_vals, a_mult = np.unique(a, return_counts=True)
    b_vals = np.unique(b[b > 0])
    cut_idx, col = np.nonzero(b)
    b_mult = np.bincount(cut_idx * b_vals.size + np.searchsorted(b_vals, b[cut_idx, col]), minlength=k * b_vals.size)
    emi = (a_mult @ emi_terms(a_vals, b_vals, n)) @ b_mult.reshape(k, b_vals.size).T if a.size > 1 else np.zeros(k)
    emi = np.where(single, 0.0, emi)

    normalizer = (_entropy(a) + _entropies(b, n)) / 2.0
    denominator = normalizer - emi
    denominator = np.where(denominator < 0, np.minimum(denominator, -_EPS), np.maximum(denominator, _EPS))
    ami = (mi - emi) / denominator
    ami = np.where((a.size == 1) & (n_clusters == 1), 1.0, ami)
    return float(ami.max())
