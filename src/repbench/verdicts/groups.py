"""Per-group paired comparison: which groups (GO terms, pathways, complexes) A and B recover differently.

For a group g and its members M in both tables: d_m = AP_A(m, g) - AP_B(m, g), the AP of member m retrieving
the other members (:mod:`repbench.metrics.group_ap`). Test: paired sign flip of the mean of d (H0: each d_m is
as likely -d_m), two-sided, on the exact integers rint(d * 2**32): every one of the 2**m sign vectors when m <=
``EXACT_UP_TO`` (p = share of them with |sum| >= the observed |sum|), else ``FLIPS`` random sign vectors from
``numpy.random.default_rng([seed, m])`` (p = (1 + count) / (1 + FLIPS)). q: Benjamini-Hochberg over the groups
of a tier.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..metrics.multiple_testing import benjamini_hochberg
from .bootstrap import exact_mean, fixed_point

EXACT_UP_TO = 12
FLIPS = 1000


def sign_flip_p(differences: np.ndarray, seed: int = 0, flips: int = FLIPS) -> float:
    """Two-sided sign-flip p-value of the mean of paired differences (m,); 1 for m = 0 or all zero."""
    d = fixed_point(differences)
    m = d.size
    observed = abs(float(d.sum()))
    if m == 0 or observed == 0.0:
        return 1.0
    if m <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=m)))
        return float(np.count_nonzero(np.abs(signs @ d) >= observed) / signs.shape[0])
    signs = np.random.default_rng([seed, m]).integers(0, 2, size=(flips, m)) * 2.0 - 1.0
    return float((1 + np.count_nonzero(np.abs(signs @ d) >= observed)) / (1 + flips))


def compare_groups(ids: list[str], names: dict[str, str], a: tuple, b: tuple, seed: int = 0) -> list[dict]:
    """One row per group with >= 2 members: id, name, size, map_a, map_b, difference, p, q (BH over the rows).

    a, b: (query (m,), group column (m,), ap (m,)) of :func:`repbench.metrics.group_ap.query_group_ap` for the
    two tables on the same proteins and groups (so the pairs line up one to one).
    """
    qa, ga, apa = a
    qb, gb, apb = b
    if not (np.array_equal(qa, qb) and np.array_equal(ga, gb)):
        raise ValueError("the two tables' (query, group) pairs differ: compare on the same proteins")
    rows = []
    order = np.argsort(ga, kind="stable")
    bounds = np.searchsorted(ga[order], np.arange(len(ids) + 1))
    for g in range(len(ids)):
        take = order[bounds[g] : bounds[g + 1]]
        if take.size < 2:
            continue
        ma, mb = exact_mean(apa[take]), exact_mean(apb[take])
        rows.append(
            {
                "group": ids[g],
                "name": names.get(ids[g], ids[g]),
                "size": int(take.size),
                "map_a": ma,
                "map_b": mb,
                "difference": ma - mb,
                "p": sign_flip_p(apa[take] - apb[take], seed),
            }
        )
    q = benjamini_hochberg(np.array([r["p"] for r in rows])) if rows else []
    for row, value in zip(rows, q):
        row["q"] = float(value)
    return rows
