"""Multiple-testing corrections: Holm (family-wise error) and Benjamini-Hochberg (false discovery rate)."""

from __future__ import annotations

import numpy as np


def _prepare(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p-values must be a 1-d array")
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    return p, finite, p[finite]


def holm(p) -> np.ndarray:
    """Holm step-down adjusted p-values of p (m,), in the input order; NaN stays NaN and is not counted in m.

    Sorted ascending p_(1) <= ... <= p_(m): adjusted_(i) = max over j <= i of min(1, (m - j + 1) p_(j)).
    """
    p, finite, values = _prepare(p)
    out = np.full(p.shape, np.nan)
    m = values.size
    if m:
        order = np.argsort(values)  # tied p-values get the same adjusted value in any order
        stepped = np.minimum(1.0, (m - np.arange(m)) * values[order])
        adjusted = np.empty(m)
        adjusted[order] = np.maximum.accumulate(stepped)
        out[finite] = adjusted
    return out


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg q-values of p (m,), in the input order; NaN stays NaN and is not counted in m.

    Sorted ascending: q_(i) = min over j >= i of min(1, m p_(j) / j); the minimum includes j = m, m p_(m) / m
    <= 1 (also in floating point), so the cap at 1 is implied.
    """
    p, finite, values = _prepare(p)
    out = np.full(p.shape, np.nan)
    m = values.size
    if m:
        order = np.argsort(values)  # tied p-values get the same adjusted value in any order
        stepped = values[order] * m / np.arange(1, m + 1)
        adjusted = np.empty(m)
        adjusted[order] = np.minimum.accumulate(stepped[::-1])[::-1]
        out[finite] = adjusted
    return out
