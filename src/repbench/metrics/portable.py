"""Float arithmetic whose results do not depend on the CPU, the BLAS library or numpy's SIMD dispatch.

numpy picks its ``log``/``exp`` kernels and some reduction loops at run time from the CPU's features (AVX2,
AVX-512, ...), and BLAS picks its matrix-product kernels the same way; their last bits differ between
machines. The evaluator therefore computes every reported float from operations whose IEEE 754 binary64
result is defined to the bit: ``+ - * /``, ``sqrt``, ``rint``, comparisons and exact integer arithmetic,
elementwise (numpy never fuses two ufunc calls into one FMA), plus

- :func:`ordered_sums` and :func:`ordered_column_sums`: sums that add left to right in array order
  (``np.bincount`` with weights is one sequential C loop; a Python loop of elementwise adds is the same order;
  no SIMD lanes, no pairwise split, no BLAS);
- :func:`exp_portable`: fdlibm's ``exp`` algorithm written with those elementwise operations (within 1 ulp
  of glibc's ``exp``, the same bits everywhere); it never calls libm;
- :func:`log_tables`: ``log(k)`` and ``log(k!)`` for the integers ``k = 0..n`` (every log the evaluator takes is
  of an integer count), computed in 34-digit decimal arithmetic (Python's ``decimal``: integer arithmetic,
  no libm) and rounded once to float64, so each entry is the correctly rounded value (barring a tie within
  1e-30) on every machine.

The coefficients and the argument reduction of ``exp_portable`` are those of fdlibm's ``e_exp.c``:

    Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
    Developed at SunSoft, a Sun Microsystems, Inc. business.
    Permission to use, copy, modify, and distribute this software is freely granted, provided that this
    notice is preserved.
"""

from __future__ import annotations

import math
from decimal import Context, Decimal

import numpy as np

# fdlibm e_exp.c constants
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_P1, _P2, _P3, _P4, _P5 = (
    1.66666666666666019037e-01,
    -2.77777777770155933842e-03,
    6.61375632143793436117e-05,
    -1.65339022054652515390e-06,
    4.13813679705723846039e-08,
)
_DECIMAL = Context(prec=34)

#: exp_portable returns exactly 0 below this argument (e**-600 ~ 3e-261: far below any sum it is added to,
#: and far above the subnormal range, so flush-to-zero CPU modes cannot matter either)
EXP_FLOOR = -600.0


def ordered_sums(segment: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """float64 (k,): the sum of values (m,) per segment id (m,) in 0..k-1, each added left to right in array order."""
    return np.bincount(segment, weights=values, minlength=k)


def ordered_column_sums(matrix: np.ndarray) -> np.ndarray:
    """float64 (c,): the sum of each column of matrix (r, c), adding its rows top to bottom (one elementwise add
    per row: the same left-to-right order as ``ordered_sums``, vectorised across columns)."""
    total = np.zeros(matrix.shape[1])
    for row in matrix:
        total += row  # in float64: each row is converted exactly as astype(float64) would
    return total


def _power_of_two(k: np.ndarray) -> np.ndarray:
    """2.0**k for integer-valued k in -1022..1023, built from its bits (exact)."""
    return ((k.astype(np.int64) + 1023) << 52).view(np.float64)


def exp_portable(x: np.ndarray) -> np.ndarray:
    """e**x elementwise (float64, any shape) by fdlibm's algorithm; 0 for x < EXP_FLOOR; x <= 700 required."""
    x = np.asarray(x, dtype=np.float64)
    live = x >= EXP_FLOOR
    x = np.where(live, x, EXP_FLOOR)  # any finite value: those lanes are discarded below
    k = np.rint(x * _INV_LN2)
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return np.where(live, y * _power_of_two(k), 0.0)


_tables: tuple[np.ndarray, np.ndarray] = (np.zeros(1), np.zeros(1))


def _build_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """log(k) and log(k!) for k = 0..n in 34-digit decimal arithmetic (libmpdec: integer arithmetic, ``ln``
    correctly rounded), each entry then rounded once to float64 (correctly rounded conversion)."""
    smallest_factor = list(range(n + 1))
    for p in range(2, math.isqrt(n) + 1):
        if smallest_factor[p] == p:
            for multiple in range(p * p, n + 1, p):
                if smallest_factor[multiple] == multiple:
                    smallest_factor[multiple] = p
    ln = [_DECIMAL.create_decimal(0)] * (n + 1)
    log_fact = [0.0] * (n + 1)
    total = Decimal(0)
    for k in range(2, n + 1):
        p = smallest_factor[k]
        ln[k] = _DECIMAL.ln(Decimal(k)) if p == k else _DECIMAL.add(ln[p], ln[k // p])  # ln only for primes
        total = _DECIMAL.add(total, ln[k])
        log_fact[k] = float(total)
    return np.array([float(v) for v in ln]), np.array(log_fact)


def log_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(log(k), log(k!)) for k = 0..n (at least; log(0) is stored as 0), float64. Entry k never depends on n."""
    global _tables
    if _tables[0].size <= n:
        _tables = _build_tables(max(n, 2 * (_tables[0].size - 1), 1023))
    return _tables
