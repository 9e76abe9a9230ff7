"""Training pairs: each source cell gets a partner, another cell of the same protein, new each epoch."""

from __future__ import annotations

import numpy as np
import pandas as pd


def pairable_ids(proteins: np.ndarray, cell_ids: np.ndarray) -> np.ndarray:
    """The ids in ``cell_ids`` whose protein has at least one other cell among them (those can be paired).
    ``proteins``: the protein of each cell in ``cell_ids`` (same length)."""
    codes, _ = pd.factorize(pd.Series(np.asarray(proteins, dtype=object)))
    return np.asarray(cell_ids)[np.bincount(codes)[codes] >= 2]


def sample_partners(proteins: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each position i, the position of a partner: another position with the same protein, drawn
    uniformly among them. ``proteins`` (n,) names or codes; returns int64 (n,).

    Within a protein's k positions, position j is paired with position (j + r) mod k for an r drawn
    uniformly from 1..k-1: every other cell is equally likely and a cell is never its own partner.
    Raises ValueError when a protein has a single position (it has no partner)."""
    codes, _ = pd.factorize(pd.Series(np.asarray(proteins, dtype=object)))
    order = np.argsort(codes, kind="stable")  # positions grouped by protein
    counts = np.bincount(codes)
    if (counts < 2).any():
        raise ValueError("every protein needs at least two cells to be paired")
    starts = np.repeat(np.cumsum(counts) - counts, counts)  # first slot of each slot's protein group
    sizes = np.repeat(counts, counts)
    rank = np.arange(len(order)) - starts  # slot within the group
    shift = rng.integers(1, sizes)  # 1..k-1
    partners = np.empty(len(order), dtype=np.int64)
    partners[order] = order[starts + (rank + shift) % sizes]
    return partners
