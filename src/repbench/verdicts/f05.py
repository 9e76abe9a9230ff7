"""A cheaper paired bootstrap of F0.5: first-order (linearised) pair weights, thresholds on a fixed grid.

Resampling proteins with multiplicities w gives the pair (i, j) the weight w_i w_j; to first order around
w = 1 that is w_i + w_j - 1. With that weight every count over pairs is linear in w:
``TP*(t) = sum_i w_i pos_i(t) - TP(t)``, ``N*(t) = sum_i w_i cnt_i(t) - N(t)``, ``P* = sum_i w_i P_i - P``, where
pos_i(t) / cnt_i(t) are protein i's positive / all partners scoring >= t and P_i its positive partners. So one
exact integer product W @ counts gives every resample's precision-recall points at once. F0.5* of a resample
= the best F0.5 over ``GRID`` thresholds: the table's own best threshold and the distinct positive scores at
``GRID - 1`` evenly spaced places from the highest to the lowest (so at w = 1 it is exactly the reported f05).
Counts below zero are clamped at zero.
"""

from __future__ import annotations

import numpy as np

from ..metrics.average_precision import positive_thresholds, precision_recall
from ..metrics.query_ap import EXCLUDED, MAX_BLOCK_ROWS, ROW_SPAN

GRID = 64
BETA2 = 0.25


def best_threshold(all_sorted: np.ndarray, pos_sorted: np.ndarray) -> tuple[float, np.ndarray]:
    """(best F0.5, thresholds (<= GRID,) descending: the best one first, then the grid)."""
    tp, ranked = positive_thresholds(all_sorted, pos_sorted)
    precision, recall = precision_recall(tp, ranked)
    denominator = BETA2 * precision + recall
    f = np.divide((1 + BETA2) * precision * recall, denominator, out=np.zeros_like(precision), where=denominator > 0)
    distinct = np.unique(pos_sorted)[::-1]
    best = int(np.argmax(f))
    grid = distinct[np.unique(np.linspace(0, distinct.size - 1, GRID - 1).round().astype(np.int64))]
    return float(f[best]), np.concatenate([[distinct[best]], grid[grid != distinct[best]]])


def threshold_counts(rows, shared_of, n: int, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per protein: (pos (n, K), cnt (n, K), P (n,)) = positive partners / partners scoring >= each threshold,
    and all positive partners. rows(start, stop): int64 scores; shared_of(start, stop): bool positives."""
    k = thresholds.size
    pos = np.empty((n, k), dtype=np.int64)
    cnt = np.empty((n, k), dtype=np.int64)
    total = np.empty(n, dtype=np.int64)
    for start in range(0, n, MAX_BLOCK_ROWS):
        stop = min(start + MAX_BLOCK_ROWS, n)
        b = stop - start
        scores = rows(start, stop)
        shared = shared_of(start, stop)
        shared[np.arange(b), np.arange(start, stop)] = False
        shift = (np.arange(b, dtype=np.int64) * ROW_SPAN)[:, None]
        keyed = scores.copy()
        keyed[np.arange(b), np.arange(start, stop)] = EXCLUDED
        probe = (thresholds[None, :] + shift).ravel()
        ends = (np.arange(1, b + 1) * n)[:, None]
        cnt[start:stop] = ends - np.searchsorted(np.sort(keyed + shift, axis=1).ravel(), probe, "left").reshape(b, k)
        positive_keys = np.sort(np.where(shared, keyed, EXCLUDED) + shift, axis=1).ravel()
        pos[start:stop] = ends - np.searchsorted(positive_keys, probe, "left").reshape(b, k)
        total[start:stop] = shared.sum(axis=1)
    return pos, cnt, total


def resampled_f05(weights: np.ndarray, pos: np.ndarray, cnt: np.ndarray, total: np.ndarray) -> np.ndarray:
    """F0.5* (B,) of each resample from the linearised counts; weights (B, n) multiplicities of the proteins."""
    w = np.asarray(weights, dtype=np.float64)
    tp = np.maximum(w @ pos.astype(np.float64) - pos.sum(axis=0) / 2.0, 0.0)  # (B, K); pos counts pairs twice
    ranked = np.maximum(w @ cnt.astype(np.float64) - cnt.sum(axis=0) / 2.0, 0.0)
    positives = np.maximum(w @ total.astype(np.float64) - total.sum() / 2.0, 0.0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(ranked > 0, tp / ranked, 0.0)
        recall = np.where(positives > 0, tp / positives, 0.0)
        denominator = BETA2 * precision + recall
        f = np.where(denominator > 0, (1 + BETA2) * precision * recall / denominator, 0.0)
    return f.max(axis=1)
