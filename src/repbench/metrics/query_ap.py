"""Per-query average precision (the mean of which is mAP) and its bootstrap interval.

For a block of queries at once: each row of ``scores`` ranks every other protein for one query. Rows are
sorted once; each positive's precision is read with one ``searchsorted`` over the whole block, made possible
by shifting row r's integer scores by ``r * ROW_SPAN`` so that rows never interleave.
"""

from __future__ import annotations

import numpy as np

from .portable import ordered_column_sums, ordered_sums

#: integer scores of the fixed-point correlation lie in (-2**53, 2**53); rows are shifted apart by 2**54
ROW_SPAN = np.int64(1) << np.int64(54)
#: at most this many rows per block, so that shifted scores stay inside int64
MAX_BLOCK_ROWS = 255
EXCLUDED = -(np.int64(1) << np.int64(53))  # below every real score: the query itself


def query_average_precision(scores: np.ndarray, positives: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """AP of each row's ranking (sklearn tie semantics), ignoring excluded items.

    scores: int64 (b, n) with |score| < 2**53 and b <= MAX_BLOCK_ROWS; positives: bool (b, n);
    exclude: bool (b, n), True for items that are not ranked (the query itself). Returns float64 (b,):
    NaN for rows without a positive.
    """
    b, n = scores.shape
    if b > MAX_BLOCK_ROWS:
        raise ValueError(f"at most {MAX_BLOCK_ROWS} rows per block")
    positives = positives & ~exclude
    shift = (np.arange(b) * ROW_SPAN)[:, None]
    keyed = np.where(exclude, EXCLUDED, scores) + shift
    all_sorted = np.sort(keyed).ravel()  # rows ascending, and row r < row r+1 everywhere
    pos_keys = keyed[positives]  # row-major: grouped by row
    pos_sorted = np.sort(pos_keys)
    n_pos = positives.sum(axis=1)
    row_of_pos = np.repeat(np.arange(b), n_pos)
    # items of row r scoring >= s: everything up to the end of row r, minus what lies below s
    ranked_at = (row_of_pos + 1) * n - np.searchsorted(all_sorted, pos_sorted)
    pos_end = np.cumsum(n_pos)
    tp_at = pos_end[row_of_pos] - np.searchsorted(pos_sorted, pos_sorted)
    precision_sum = ordered_sums(row_of_pos, tp_at / ranked_at, b)
    with np.errstate(invalid="ignore"):  # 0 / 0 for rows without positives
        return np.where(n_pos > 0, precision_sum / n_pos, np.nan)


def bootstrap_interval(
    values: np.ndarray, n_resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of values (k,): resample indices with default_rng(seed).

    Each resample's sum adds left to right (``ordered_column_sums``); the percentiles interpolate linearly (numpy).
    """
    rng = np.random.default_rng(seed)
    idx = rng.integers(values.size, size=(n_resamples, values.size))  # indices 0..size-1
    means = ordered_column_sums(values[idx.T]) / values.size  # resample r is column r
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(means, [tail, 100.0 - tail])
    return float(lo), float(hi)
