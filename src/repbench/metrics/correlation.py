"""Pearson correlation in fixed point, so that every machine gets the same bits.

Floating-point matrix products are not reproducible across machines: BLAS kernels sum in different orders.
We therefore centre each vector, scale it to unit norm (float64) and round it to integers at a resolution
of ``2**-26`` (``unit_vectors_fixed``). Dot products of such vectors are sums of integers whose partial sums
stay below ``2**53`` in magnitude (Cauchy-Schwarz: ``|sum a_k b_k| <= |a| |b| ~ 2**52``), so a float64
matrix product computes them *exactly*, in any order, with or without FMA. The correlation is that integer
times ``2**-52``: within about 1e-7 of the real-valued Pearson correlation, and bit-identical everywhere.
"""

from __future__ import annotations

import numpy as np

from .portable import ordered_column_sums

SCALE_BITS = 26
#: multiply an integer dot product by this to get the correlation
CORRELATION_UNIT = 2.0 ** (-2 * SCALE_BITS)


def unit_vectors_fixed(vectors: np.ndarray) -> np.ndarray:
    """Centre each row on its mean, scale it to unit norm, round to multiples of 2**-26 (stored as integers).

    vectors: (n, d) array of finite numbers, no constant row. Returns float64 (n, d) holding integers.
    The row sums (for the mean, and the sum of squares for the norm) add the d components left to right
    (``ordered_column_sums``), so the rounded integers are the same on every CPU, whatever numpy's SIMD kernels.
    """
    x = np.asarray(vectors, dtype=np.float64)
    centred = x - (ordered_column_sums(x.T) / x.shape[1])[:, None]
    norms = np.sqrt(ordered_column_sums((centred * centred).T))
    return np.rint(centred / norms[:, None] * 2.0**SCALE_BITS)


def integer_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact dot products of fixed-point unit vectors: (n, d) x (m, d) -> int64 (n, m)."""
    return (a @ b.T).astype(np.int64)


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Correlation matrix (float64) between rows of fixed-point unit vectors a (n, d) and b (m, d)."""
    return (a @ b.T) * CORRELATION_UNIT
