"""The best F-beta score over the points of a precision-recall curve."""

from __future__ import annotations

import numpy as np


def best_f_beta(precision: np.ndarray, recall: np.ndarray, beta: float = 0.5) -> float:
    """max over points of (1 + b^2) P R / (b^2 P + R), taking 0 where the denominator is 0.

    precision, recall: (k,) arrays of curve points. With beta = 0.5 this is F0.5 = 1.25 P R / (0.25 P + R).
    """
    b2 = beta * beta
    numerator = (1.0 + b2) * precision * recall
    denominator = b2 * precision + recall
    with np.errstate(invalid="ignore"):  # 0 / 0 only at a point P = R = 0, which scores 0
        scores = np.fmax(numerator / denominator, 0.0)
    return float(scores.max()) if scores.size else 0.0
