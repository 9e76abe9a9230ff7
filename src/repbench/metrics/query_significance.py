"""Per-query significance in the copairs sense: each query's AP against a permutation null.

Null for a query with k positives among N ranked candidates: the AP when the k positives sit at a uniformly
random k-subset of the N ranks (no ties). ``NULL_SIZE`` random permutations of the ranks 1..N are drawn with
``numpy.random.default_rng([NULL_SEED, N, NULL_SIZE]).permuted`` (row-wise, on the tiled ranks); the null of k
positives is the AP of each permutation's first k ranks (a uniform k-subset): mean over m of m / (m-th smallest
rank). So each (k, N) null is the same whatever else is computed; the tables are cached per process by N.

p = (1 + #{null APs >= observed AP - 1e-12}) / (1 + NULL_SIZE); q = Benjamini-Hochberg over the queries of a tier;
``fraction_retrieved`` = the share of queries with q < ``RETRIEVED_Q``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

NULL_SIZE = 1000
NULL_SEED = 20250
RETRIEVED_Q = 0.05
#: a null AP counts as "at least the observed AP" down to this much below it (equal APs summed in other orders)
TIE_TOLERANCE = 1e-12


def _fenwick_add(tree: np.ndarray, base: np.ndarray, index: np.ndarray, value) -> None:
    """Add value at 1-based index (<= n) in every sample's tree: tree is flat (samples * (n + 1),), row r starts at
    base[r]; column n, never read (prefixes stop at n - 1), is where rows that are done wait for the others."""
    n = tree.size // base.size - 1
    for _ in range((n - 1).bit_length()):  # as many steps as index 1 takes: 1, 2, 4, ... below n
        tree[base + index] += value
        index = np.minimum(index + (index & -index), n)


def _fenwick_prefix(tree: np.ndarray, base: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Sum of entries 1..index of every sample's flat tree (index 0: nothing; column 0 holds 0)."""
    out = np.zeros(base.size, dtype=tree.dtype)
    for _ in range((tree.size // base.size - 1).bit_length() - 1):  # the most set bits of an index below n
        out += tree[base + index]
        index = index & (index - 1)
    return out


@lru_cache(maxsize=16)
def _nulls(n: int, max_k: int, size: int) -> np.ndarray:
    """(max_k, size) AP of the first k items of ``size`` seeded random permutations of n ranks, k = 1..max_k.

    Row k - 1 is the null of k positives: the first k items of a uniform permutation are a uniform k-subset.
    Built by inserting the items one by one with a Fenwick tree per sample holding, per rank, 1 + 1j / rank
    of the inserted items: inserting rank r adds (1 + #earlier ranks below r) / r for itself and 1 / r' for
    every earlier rank r' > r (each moves down one place among the positives). The sums run in the same
    order on every CPU.
    """
    rng = np.random.default_rng([NULL_SEED, n, size])
    ranks = rng.permuted(np.tile(np.arange(1, n + 1), (size, 1)), axis=1)[:, :max_k]
    base = np.arange(size) * (n + 1)
    tree = np.zeros(size * (n + 1), dtype=np.complex128)  # per sample: real = count, imag = sum of 1 / rank
    total = np.zeros(size)  # sum over the inserted of (their place among the positives) / rank
    inverse_sum = np.zeros(size)  # sum over the inserted of 1 / rank
    out = np.empty((max_k, size))
    for k in range(max_k):
        r = ranks[:, k]
        below = _fenwick_prefix(tree, base, r - 1)
        total = total + (1.0 + below.real) / r + (inverse_sum - below.imag)
        out[k] = total / (k + 1)
        _fenwick_add(tree, base, r, 1.0 + 1j / r)
        inverse_sum = inverse_sum + 1.0 / r
    return out


def null_average_precision(k: int, n: int, size: int = NULL_SIZE) -> np.ndarray:
    """Sorted (size,) APs of k positives at random ranks among n candidates (read-only).

    The draws depend on (n, size) only, not on k's neighbours or on what was computed before.
    """
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= positives <= candidates, got {k} of {n}")
    return _sorted_null(k, n, size)


@lru_cache(maxsize=8192)
def _sorted_null(k: int, n: int, size: int) -> np.ndarray:
    out = np.sort(_nulls_upto(n, k, size)[k - 1])
    out.flags.writeable = False
    return out


_LARGEST: dict[tuple[int, int], int] = {}


def clear_cache() -> None:
    _nulls.cache_clear()
    _sorted_null.cache_clear()
    _LARGEST.clear()


def _nulls_upto(n: int, k: int, size: int) -> np.ndarray:
    """The null table of (n, size) covering at least k positives (recomputed larger when needed)."""
    known = _LARGEST[(n, size)] = max(k, _LARGEST.get((n, size), k))
    return _nulls(n, known, size)


def query_p_values(ap: np.ndarray, positives: np.ndarray, candidates: np.ndarray, size: int = NULL_SIZE) -> np.ndarray:
    """p (m,) of each query's AP (m,) against the null of its (positives, candidates); NaN where AP is NaN."""
    ap = np.asarray(ap, dtype=np.float64)
    out = np.full(ap.shape, np.nan)
    ok = np.isfinite(ap)
    configs = np.unique(np.stack([positives[ok], candidates[ok]], axis=1), axis=0)  # (0, 2) without queries
    for n in np.unique(candidates[ok]):  # one null table per n, up to its largest k (not one per k)
        _nulls_upto(int(n), int(positives[ok][candidates[ok] == n].max()), size)
    for k, n in configs:
        which = ok & (positives == k) & (candidates == n)
        null = null_average_precision(int(k), int(n), size)
        at_least = null.size - np.searchsorted(null, ap[which] - TIE_TOLERANCE)
        out[which] = (1.0 + at_least) / (1.0 + null.size)
    return out


def positives_per_query(membership: np.ndarray) -> np.ndarray:
    """int64 (n,): for each protein, how many others share at least one group with it (0/1 membership (n, g))."""
    from scipy import sparse

    m = sparse.csr_matrix(np.asarray(membership) > 0, dtype=np.int64)
    shared = m @ m.T  # entries count shared groups; never cancel
    return shared.getnnz(axis=1).astype(np.int64) - (np.asarray(membership).any(axis=1))


def fraction_retrieved(q: np.ndarray, threshold: float = RETRIEVED_Q) -> float | None:
    """Share of queries (NaN ignored) with q < threshold; None without queries."""
    q = np.asarray(q)
    q = q[np.isfinite(q)]
    return float(np.count_nonzero(q < threshold) / q.size) if q.size else None
