"""Which proteins the synthetic proteome holds, where each one localizes, and its group-shared parameters.

Everything here is a deterministic function of the seed, the shipped Huh 2003 table and the frozen
standards; docs/data.md describes the rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ...errors import RepbenchError
from ..labels import HUH_FLAGS, class_of_flags, huh_table
from ..preprocess import stable_seed

#: Huh flags the generator draws (all but "ambiguous", which says nothing about the image).
DRAWN_FLAGS = [f for f in HUH_FLAGS if f != "ambiguous"]
#: Tiers whose groups set the fine parameters, with each group's weight in the average: a shared complex
#: pulls two proteins' parameters together more than a shared pathway, and that more than a GO-BP term.
FINE_TIERS = {"complex": 3.0, "kegg": 2.0, "go_bp": 1.0}
#: The fine parameters, each in [0, 1]; render.py turns them into pixels.
FINE_PARAMS = ("dot_size", "dot_count", "texture_freq", "intensity_ratio")
#: Weight of the groups' average against the protein's own random draw.
GROUP_SHARE = 0.75
COMPLEX_SHARE, KEGG_SHARE = 0.45, 0.30  # fractions of the set filled from whole complexes, then pathways
MAX_COMPLEX = 12  # larger complexes (ribosome, ...) would take too much of a small set


@dataclass(frozen=True)
class SyntheticProtein:
    orf: str
    gene: str
    flags: tuple[str, ...]  # the Huh localizations drawn, in HUH_FLAGS order
    label_class: str | None  # the DeepLoc class by the labels priority rule
    abundance: float  # molecules per cell (Ghaemmaghami 2003), NaN when not measured
    fine: np.ndarray  # (4,) in [0, 1], FINE_PARAMS order
    groups: tuple[str, ...]  # "tier:group_id" of the FINE_TIERS groups it is in


def unit_vector(*key: object) -> np.ndarray:
    """(4,) floats in [0, 1) from a hash of the key: the same on every machine."""
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode()).digest()
    return np.frombuffer(digest[:16], dtype="<u4").astype(np.float64) / 2.0**32


def memberships(standards) -> dict[str, list[str]]:
    """ORF -> ["tier:group_id", ...] over FINE_TIERS (sorted, so the average is order-free)."""
    out: dict[str, list[str]] = {}
    for tier in FINE_TIERS:
        for gid, members in standards.tiers[tier].groups.items():
            for orf in members:
                out.setdefault(orf, []).append(f"{tier}:{gid}")
    return {orf: sorted(groups) for orf, groups in out.items()}


def fine_parameters(orf: str, groups: list[str]) -> np.ndarray:
    """(4,) in [0, 1]: GROUP_SHARE x the weighted mean of the groups' hashed vectors + the rest from the ORF.

    A protein in no group gets 0.5 for the group part (so it is not pulled toward anyone)."""
    if groups:
        weights = np.array([FINE_TIERS[g.split(":", 1)[0]] for g in groups])
        vectors = np.stack([unit_vector("group", g) for g in groups])
        shared = weights @ vectors / weights.sum()
    else:
        shared = np.full(len(FINE_PARAMS), 0.5)
    return GROUP_SHARE * shared + (1 - GROUP_SHARE) * unit_vector("protein", orf)


def candidates(standards) -> list[str]:
    """Huh ORFs with at least one drawn localization that are in some tier of the standards (sorted)."""
    table = huh_table()
    drawn = table.loc[table[DRAWN_FLAGS].any(axis=1), "orf"]
    annotated = set().union(*(t.members for t in standards.tiers.values()))
    return sorted(set(drawn) & annotated)


def choose_orfs(n_proteins: int, seed: int, standards) -> list[str]:
    """``n_proteins`` ORFs, sorted: whole complexes first, then up to 6 members of random KEGG pathways,
    then random other candidates, so that many chosen proteins share groups in every tier."""
    pool = candidates(standards)
    if not 1 <= n_proteins <= len(pool):
        raise RepbenchError("synthetic-bad-size", f"n_proteins must be between 1 and {len(pool)}, got {n_proteins}")
    allowed = set(pool)
    rng = np.random.default_rng(stable_seed("choose", seed))
    chosen: list[str] = []
    taken: set[str] = set()

    def take(orfs) -> None:
        for orf in orfs:
            if orf not in taken:
                taken.add(orf)
                chosen.append(orf)

    complexes = [sorted(set(m) & allowed) for _, m in sorted(standards.tiers["complex"].groups.items())]
    complexes = [m for m in complexes if 2 <= len(m) <= MAX_COMPLEX]
    budget = int(round(COMPLEX_SHARE * n_proteins))
    for i in rng.permutation(len(complexes)):
        new = [o for o in complexes[i] if o not in taken]
        if len(new) >= 2 and len(chosen) + len(new) <= budget:
            take(new)
    pathways = [sorted(set(m) & allowed) for _, m in sorted(standards.tiers["kegg"].groups.items())]
    budget = int(round((COMPLEX_SHARE + KEGG_SHARE) * n_proteins))
    for i in rng.permutation(len(pathways)):
        new = [o for o in pathways[i] if o not in taken]
        room = min(6, budget - len(chosen))
        if len(new) >= 2 and room >= 2:
            take(rng.choice(new, size=min(room, len(new)), replace=False).tolist())
    rest = [o for o in pool if o not in taken]
    take(rng.choice(rest, size=n_proteins - len(chosen), replace=False).tolist())
    return sorted(chosen)


def build_proteome(n_proteins: int, seed: int, standards) -> list[SyntheticProtein]:
    table = huh_table().set_index("orf")
    groups_of = memberships(standards)
    proteins = []
    for orf in choose_orfs(n_proteins, seed, standards):
        row = table.loc[orf]
        flags = tuple(f for f in DRAWN_FLAGS if row[f])
        groups = groups_of.get(orf, [])
        proteins.append(
            SyntheticProtein(
                orf=orf,
                gene=row["gene"],
                flags=flags,
                label_class=class_of_flags(flags),
                abundance=float(row["abundance"]),
                fine=fine_parameters(orf, groups),
                groups=tuple(groups),
            )
        )
    return proteins
