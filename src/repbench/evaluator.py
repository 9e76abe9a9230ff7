"""Evaluator v1: score one protein table on the frozen tiers (the protocol is docs/evaluation.md).

For each tier: the proteins A of the table that belong to a group; their pairwise correlations S;
global average precision and best F0.5 over all pairs; mean per-query average precision with a bootstrap
interval; and the best AMI between non-overlapping groups and cuts of an average-linkage tree, averaged
over 10 seeded draws of the groups. Everything is computed in blocks of query rows, so memory grows with
the number of pairs (8 bytes each), never with a dense float matrix of pairs per metric.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np
from scipy import sparse
from scipy.spatial.distance import squareform

from . import EVALUATOR_VERSION, results
from .errors import UsageError
from .metrics.ami import best_cut_ami, mean_and_sd
from .metrics.average_precision import average_precision, positive_thresholds, precision_recall, thin_curve
from .metrics.correlation import CORRELATION_UNIT, unit_vectors_fixed
from .metrics.f_beta import best_f_beta
from .metrics.group_ap import group_map, query_group_ap
from .metrics.multiple_testing import benjamini_hochberg
from .metrics.query_ap import MAX_BLOCK_ROWS, bootstrap_interval, query_average_precision
from .metrics.query_significance import fraction_retrieved, positives_per_query, query_p_values
from .standards import Standards, Tier
from .table import ProteinTable

AMI_DRAWS = 10
AMI_THRESHOLDS = 100
BOOTSTRAP_RESAMPLES = 1000

#: keep all pairwise dot products in one int64 matrix while it takes at most this much memory: 4 GiB holds
#: 23,000 evaluated proteins and leaves room for the pair arrays within a 6 GB process
FULL_MATRIX_BYTES = 4 << 30
#: rows of the product computed per matrix product when filling the full matrix
FILL_BLOCK_ROWS = 2048

Progress = Callable[[str], None]


class DotProducts:
    """Exact integer dot products between the fixed-point vectors of the evaluated proteins.

    While the full matrix fits in ``full_matrix_bytes`` it is computed once, in row blocks (exact integers
    below 2**53 in float64, whatever the summation order) into one preallocated int64 array, so there is never
    a second full-size copy, and shared by all tiers and the AMI draws: a tier's view (``restrict``) keeps
    only its row indices, and each block of rows is gathered when asked for, so no tier copies the matrix.
    For larger tables the products are recomputed block by block on demand so memory stays bounded.
    Either way ``rows`` and ``among`` return int64 values, identical bit for bit.
    """

    def __init__(self, fixed: np.ndarray, full_matrix_bytes: int = FULL_MATRIX_BYTES):
        self.fixed = fixed
        self.idx: np.ndarray | None = None  # rows of ``full`` this view stands for (None: all, in order)
        n = fixed.shape[0]
        self.full: np.ndarray | None = None
        if n * n * 8 <= full_matrix_bytes:
            self.full = np.empty((n, n), dtype=np.int64)
            for start in range(0, n, FILL_BLOCK_ROWS):
                self.full[start : start + FILL_BLOCK_ROWS] = fixed[start : start + FILL_BLOCK_ROWS] @ fixed.T

    def restrict(self, idx: np.ndarray) -> "DotProducts":
        """The same products for the proteins idx only (no copy of the full matrix: an index view)."""
        sub = DotProducts.__new__(DotProducts)
        sub.full = self.full
        if self.full is not None:
            sub.fixed = self.fixed
            sub.idx = idx if self.idx is None else self.idx[idx]
        else:
            sub.fixed = self.fixed[idx]
            sub.idx = None
        return sub

    def _gather(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """int64 (len(rows), len(columns)) straight from the full matrix (np.ix_: no intermediate copy)."""
        return self.full[np.ix_(rows, columns)]

    def rows(self, start: int, stop: int) -> np.ndarray:
        """int64 (stop - start, n): products of rows start..stop-1 with every row."""
        if self.full is not None:
            if self.idx is None:
                return self.full[start:stop]
            return self._gather(self.idx[start:stop], self.idx)
        return (self.fixed[start:stop] @ self.fixed.T).astype(np.int64)

    def among(self, idx: np.ndarray) -> np.ndarray:
        """int64 (len(idx), len(idx))."""
        if self.full is not None:
            rows = idx if self.idx is None else self.idx[idx]
            return self._gather(rows, rows)
        return (self.fixed[idx] @ self.fixed[idx].T).astype(np.int64)


def _membership(tier: Tier, proteins: list[str]) -> np.ndarray:
    """float32 (len(proteins), n_groups): 1 where the protein is in the group (groups in sorted id order)."""
    row = {p: i for i, p in enumerate(proteins)}
    matrix = np.zeros((len(proteins), len(tier.groups)), dtype=np.float32)
    for g, members in enumerate(tier.groups.values()):
        hits = [row[m] for m in members if m in row]
        matrix[hits, g] = 1.0
    return matrix[:, matrix.any(axis=0)]


def _pairwise_scores(dots: DotProducts, membership: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk the correlation matrix in row blocks, once.

    Returns (all pair scores i<j, sorted; positive pair scores, sorted; per-query AP (n,), NaN without positives).
    """
    n = membership.shape[0]
    all_pairs = np.empty(n * (n - 1) // 2, dtype=np.int64)
    shares = np.empty(all_pairs.size, dtype=bool)
    query_ap = np.empty(n)  # float64
    filled = 0
    columns = np.arange(n)
    # which pairs share a group: one sparse product (its nonzeros are the positive pairs, a few percent), not a
    # dense (rows x groups x n) product per block, which at 10,000 proteins x 1,700 groups costs more than the rest
    member = sparse.csr_matrix(membership)
    co_members = (member @ member.T).tocsr()
    for start in range(0, n, MAX_BLOCK_ROWS):
        stop = min(start + MAX_BLOCK_ROWS, n)
        scores = dots.rows(start, stop)
        shared = co_members[start:stop].toarray() > 0
        query_ap[start:stop] = query_average_precision(scores, shared, columns[None, :] == columns[start:stop, None])
        for k, i in enumerate(range(start, stop)):  # the upper triangle, row by row: plain slices
            width = n - i - 1
            all_pairs[filled : filled + width] = scores[k, i + 1 :]
            shares[filled : filled + width] = shared[k, i + 1 :]
            filled += width
    positives = np.sort(all_pairs[shares])
    all_pairs.sort()
    return all_pairs, positives, query_ap


def _ami_draws(
    tier: Tier, dots: DotProducts, row: dict[str, int], seeds: Iterable[int] = range(AMI_DRAWS)
) -> list[float]:
    """AMI_r for r in seeds (the evaluator: 0..9): seeded non-overlapping group sets, clustered by average linkage."""
    ids = list(tier.groups)  # sorted at load
    values = []
    for r in seeds:
        order = np.random.default_rng(r).permutation(len(ids))
        taken: dict[str, int] = {}
        for g in order:
            members = [m for m in tier.groups[ids[g]] if m in row]
            if len(members) < 2 or any(m in taken for m in members):
                continue
            taken.update((m, int(g)) for m in members)
        if len(taken) < 2:
            values.append(float("nan"))
            continue
        idx = np.fromiter((row[m] for m in taken), dtype=np.int64)
        distance = np.maximum(0.0, 1.0 - dots.among(idx) * CORRELATION_UNIT)
        np.fill_diagonal(distance, 0.0)
        labels = np.array(list(taken.values()))  # group numbers: only their equality counts
        values.append(best_cut_ami(labels, squareform(distance, checks=False), AMI_THRESHOLDS))
    return values


def _groups_and_retrieval(
    tier: Tier, in_tier: list[str], membership: np.ndarray, dots: DotProducts, query_ap: np.ndarray
) -> dict:
    """Evaluator 1.1.0 fields: each group's own mAP with its size; the fraction of queries retrieved (q < 0.05)."""
    present = set(in_tier)
    ids = [g for g, members in tier.groups.items() if any(m in present for m in members)]  # membership's columns
    _, groups, ap = query_group_ap(dots.rows, membership)
    means, size = group_map(groups, ap, len(ids))
    positives = positives_per_query(membership)
    p = query_p_values(query_ap, positives, np.full(positives.size, len(in_tier) - 1))
    answered = ~np.isnan(query_ap)
    return {
        "fraction_retrieved": fraction_retrieved(benjamini_hochberg(p[answered])),
        "group_map": {g: [float(means[k]), int(size[k])] for k, g in enumerate(ids) if size[k] >= 2},
    }


def score_tier(tier: Tier, proteins: list[str], dots: DotProducts, with_curve: bool = True) -> dict:
    """All scores of one tier. proteins: the ORFs (n,) whose vectors ``dots`` holds, in the same order."""
    row_of = {p: i for i, p in enumerate(proteins)}
    in_tier = sorted(p for p in row_of if p in tier.members)
    n = len(in_tier)
    result: dict = {"proteins": n, "groups": 0, "pairs": n * (n - 1) // 2, "positive_pairs": 0}
    empty = {
        "prevalence": None,
        "ap": None,
        "f05": None,
        "map": None,
        "map_ci": None,
        "map_queries": 0,
        "ami": None,
        "ami_sd": None,
        "fraction_retrieved": None,
        "group_map": {},
    }
    if n < 2:
        return {**result, **empty, "skipped": "fewer than 2 submitted proteins are in this tier"}
    idx = np.array([row_of[p] for p in in_tier])  # n >= 2 ints: int64
    membership = _membership(tier, in_tier)
    dots = dots.restrict(idx)
    all_pairs, positives, query_ap = _pairwise_scores(dots, membership)
    result["groups"] = int(membership.shape[1])
    result["positive_pairs"] = int(positives.size)
    if positives.size == 0:
        return {**result, **empty, "skipped": "no pair of submitted proteins shares a group"}
    tp, ranked = positive_thresholds(all_pairs, positives)
    precision, recall = precision_recall(tp, ranked)
    answered = query_ap[~np.isnan(query_ap)]
    lo, hi = bootstrap_interval(answered, BOOTSTRAP_RESAMPLES, seed=0)
    ami, ami_sd = mean_and_sd(_ami_draws(tier, dots, {p: i for i, p in enumerate(in_tier)}))
    result.update(
        prevalence=positives.size / all_pairs.size,
        ap=average_precision(tp, ranked),
        f05=best_f_beta(precision, recall, beta=0.5),
        map=math.fsum(answered.tolist()) / answered.size,
        map_ci=[lo, hi],
        map_queries=int(answered.size),
        ami=ami,
        ami_sd=ami_sd,
    )
    result.update(_groups_and_retrieval(tier, in_tier, membership, dots, query_ap))
    if with_curve:
        result["pr_curve"] = thin_curve(precision, recall)
    return result


def check_tiers(tiers: Iterable[str] | None, standards: Standards) -> list[str]:
    chosen = list(tiers) if tiers else standards.default_tiers
    unknown = [t for t in chosen if t not in standards.tiers]
    if unknown:
        raise UsageError("unknown-tier", f"unknown tier(s) {', '.join(unknown)}; known: {', '.join(standards.tiers)}")
    return chosen


def evaluate_embedding(
    proteins: list[str],
    vectors: np.ndarray,
    standards: Standards,
    tiers: Iterable[str] | None = None,
    progress: Progress | None = None,
    with_curve: bool = True,
) -> dict[str, dict]:
    """Scores per tier for ORFs (n,) and their vectors (n, d): finite, no constant row, unique ORFs."""
    chosen = check_tiers(tiers, standards)
    # only proteins that some chosen tier knows take part in any pair: drop the rest before the n^2 work
    known = set().union(*(standards.tiers[t].members for t in chosen))
    keep = [i for i, p in enumerate(proteins) if p in known]
    kept = [proteins[i] for i in keep]
    dots = DotProducts(unit_vectors_fixed(np.asarray(vectors)[keep]))
    scores = {}
    for tier in chosen:
        scores[tier] = score_tier(standards.tiers[tier], kept, dots, with_curve=with_curve)
        if progress:
            progress(tier)  # called after each tier
    return scores


def coverage(proteins: Iterable[str], standards: Standards) -> float:
    reference = set(standards.reference_proteome)
    return len(reference.intersection(proteins)) / len(reference)


def evaluate_table(table: ProteinTable, standards: Standards, tiers=None, progress=None) -> dict:
    """The full result record of one validated table."""
    scores = evaluate_embedding(table.proteins, table.vectors, standards, tiers=tiers, progress=progress)
    return {
        "schema": results.SCHEMA,
        "created": results.now(),
        "evaluator": {"version": EVALUATOR_VERSION},
        "standards": standards.stamp(),
        "unofficial": not standards.official,
        "input": {
            "path": str(table.path),
            "sha256": table.sha256,
            "rows": table.rows,
            "proteins": len(table.proteins),
            "dimension": table.dimension,
            "unknown_ids": table.unknown[: results.ID_PREVIEW],
            "ambiguous_ids": table.ambiguous[: results.ID_PREVIEW],
            "n_unknown": len(table.unknown),
            "n_ambiguous": len(table.ambiguous),
            "metadata": table.metadata,
        },
        "dataset": results.dataset_of(table.metadata),
        "coverage": coverage(table.proteins, standards),
        "reference_proteome": len(standards.reference_proteome),
        "environment": results.environment(),
        "tiers": scores,
    }
