"""Label overlap: how much a tier's groups coincide with the labels an embedder was trained with.

An embedder trained to predict labels (DeepLoc: the Huh et al. 2003 localization classes) has seen part of
the answer of every tier whose groups follow those labels, as MTEB marks results that are not zero-shot.
The statistic (docs/leaderboard.md, "Label overlap"):

    For each group with at least MIN_MEMBERS members that have a localization class, take its most common
    class c (k of its n localized members). The group is *localization-concentrated* when k / n > 1/2 and
    the one-sided hypergeometric p-value of seeing >= k members of c among n drawn from the tier's localized
    proteins, times the number of classes (Bonferroni for picking the top class), has a Benjamini-Hochberg
    q-value < 0.05 over the tier's groups. The tier's overlap is the fraction of its groups that are.

A tier is marked for a row whose labels include ``localization`` when its overlap is at least MARK_AT.
Protein identity labels (inpainting, PIFiA) give every protein its own class, so no group of two or more
distinct proteins is concentrated: overlap 0, no mark.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MIN_MEMBERS = 3
ALPHA = 0.05
MARK_AT = 0.4
#: label kinds a record may declare (``submission.labels``) and what the site calls them
LABEL_TITLES = {"localization": "Huh et al. (2003) localization classes", "protein-identity": "protein identity"}


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """q-values (m,) of p-values (m,)."""
    from .. import verdicts

    return np.asarray(verdicts.benjamini_hochberg(np.asarray(p, dtype=np.float64)))


def concentrated(membership: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """Which groups are localization-concentrated (see the module docstring).

    membership: bool (groups, proteins); classes: int (proteins,), ``n_classes`` meaning "no class".
    Returns bool (groups,); groups with fewer than MIN_MEMBERS localized members are False.
    """
    from scipy.stats import hypergeom

    located = classes < n_classes
    onehot = np.zeros((classes.size, n_classes), dtype=np.int64)
    onehot[np.flatnonzero(located), classes[located]] = 1
    counts = membership.astype(np.int64) @ onehot  # (groups, classes)
    n = counts.sum(axis=1)
    top = counts.argmax(axis=1)
    k = counts[np.arange(counts.shape[0]), top]
    background = onehot.sum(axis=0)  # (classes,)
    tested = n >= MIN_MEMBERS
    out = np.zeros(counts.shape[0], dtype=bool)
    if not tested.any():
        return out
    p = np.minimum(1.0, hypergeom.sf(k[tested] - 1, int(located.sum()), background[top[tested]], n[tested]) * n_classes)
    q = benjamini_hochberg(p)
    out[np.flatnonzero(tested)] = (q < ALPHA) & (k[tested] * 2 > n[tested])
    return out


def tier_overlap(groups, classes_of: dict[str, int], n_classes: int) -> float | None:
    """Fraction of a tier's tested groups that are concentrated; None when no group can be tested."""
    proteins = sorted({p for members in groups.values() for p in members})
    column = {p: i for i, p in enumerate(proteins)}
    membership = np.zeros((len(groups), len(proteins)), dtype=bool)
    for g, members in enumerate(groups.values()):
        membership[g, [column[p] for p in members]] = True
    classes = np.array([classes_of.get(p, n_classes) for p in proteins], dtype=np.int64)
    located = (membership & (classes < n_classes)).sum(axis=1) >= MIN_MEMBERS
    if not located.any():
        return None
    return float(concentrated(membership, classes, n_classes)[located].mean())


@lru_cache(maxsize=4)
def localization_overlap(version: str) -> dict[str, float]:
    """tier -> overlap with the Huh 2003 localization classes, for the standard set ``version`` ({} if not yeast)."""
    from .localization import LOCALIZATION_CLASSES, huh_localizations, localization_classes
    from .rank import standards_for

    standards = standards_for(version)
    if standards is None or not version.startswith("yeast"):
        return {}
    huh = huh_localizations()
    out = {}
    for name, tier in standards.tiers.items():
        members = sorted(tier.members)
        classes = dict(zip(members, localization_classes(members, huh)))
        value = tier_overlap(tier.groups, classes, len(LOCALIZATION_CLASSES))
        if value is not None:
            out[name] = value
    return out


def overlap_for(labels: list[str] | None, version: str) -> dict[str, float]:
    """tier -> overlap of that tier with the row's labels (only the tiers with a measured overlap)."""
    if not labels or "localization" not in labels:
        return {}
    return localization_overlap(version)
