"""Average precision over a large set of scored items, with the tie semantics of scikit-learn.

``sklearn.metrics.average_precision_score`` walks the distinct scores from high to low and sums
``(R_k - R_{k-1}) * P_k``; items with equal scores enter together. Equivalently, every positive item
contributes ``precision(s) / n_positives`` where ``precision(s)`` counts all items scoring >= its score s.
Counting with ``searchsorted`` on sorted integer scores needs no per-threshold loop and no float ties.
"""

from __future__ import annotations

import math

import numpy as np


def positive_thresholds(all_sorted: np.ndarray, pos_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct positive score s, from high to low: (#positives >= s, #items >= s).

    all_sorted: (N,) ascending scores of every item; pos_sorted: (P,) ascending scores of the positives
    (a sub-multiset of all_sorted). Returns two int64 arrays of length = number of distinct positive scores.
    """
    distinct = pos_sorted[np.r_[True, pos_sorted[1:] != pos_sorted[:-1]]] if pos_sorted.size else pos_sorted
    thresholds = distinct[::-1]
    tp = pos_sorted.size - np.searchsorted(pos_sorted, thresholds)
    n = all_sorted.size - np.searchsorted(all_sorted, thresholds)
    return tp, n


def average_precision(tp: np.ndarray, n: np.ndarray) -> float:
    """AP from ``positive_thresholds``: sum over thresholds of (recall gained) x precision. NaN without positives.

    The sum is ``math.fsum`` (correctly rounded: the same bits in any order, on any CPU).
    """
    if tp.size == 0:
        return math.nan
    gained = np.diff(tp, prepend=0)  # positives entering at each threshold
    return math.fsum((gained * (tp / n)).tolist()) / float(tp[-1])


def precision_recall(tp: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at every distinct positive score (the only points where F-beta can peak)."""
    return tp / n, tp / tp[-1]


def thin_curve(precision: np.ndarray, recall: np.ndarray, max_points: int = 201) -> dict[str, list[float]]:
    """At most ``max_points`` points of a PR curve, evenly spaced in recall, for plots (rounded to 5 decimals)."""
    if recall.size > max_points:
        targets = np.linspace(recall[0], recall[-1], max_points)
        keep = np.unique(np.searchsorted(recall, targets))  # targets <= recall[-1]: every index is on the curve
        precision, recall = precision[keep], recall[keep]
    return {"recall": np.round(recall, 5).tolist(), "precision": np.round(precision, 5).tolist()}
