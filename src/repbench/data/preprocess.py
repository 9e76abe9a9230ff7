"""Preprocessing shared by every source: per-crop standardisation and the seeded per-protein split.

Both follow the paper: each crop is standardised to mean 0 and variance 1 per channel, and each
protein's cells are split 80/10/10 % into train/val/test.
"""

from __future__ import annotations

import hashlib

import numpy as np

from . import SPLITS


def standardise(crops: np.ndarray) -> np.ndarray:
    """(k, 2, 64, 64) any dtype -> float32, each crop and channel with mean 0 and variance 1.

    A constant channel (variance 0, e.g. an empty crop) becomes all zeros instead of NaN."""
    crops = np.asarray(crops, dtype=np.float32)
    mean = crops.mean(axis=(-2, -1), keepdims=True, dtype=np.float64)
    std = crops.std(axis=(-2, -1), keepdims=True, dtype=np.float64)
    std[std < 1e-12] = 1.0
    # statistics in float64, arithmetic in float32: no float64 copy of the batch
    out = crops - mean.astype(np.float32)
    out /= std.astype(np.float32)
    return out


def split_sizes(n_cells: int) -> tuple[int, int, int]:
    """(train, val, test) cell counts for a protein with ``n_cells`` cells.

    val = test = round-half-up(10 % of n), at least 1 each when n >= 3; train gets the rest (about 80 %).
    n = 2: one train, one test; n = 1: train only."""
    if n_cells >= 3:
        tenth = max(1, int(np.floor(0.1 * n_cells + 0.5)))
        return n_cells - 2 * tenth, tenth, tenth
    if n_cells == 2:
        return 1, 0, 1
    return n_cells, 0, 0


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from strings/ints that is the same on every machine and Python run (unlike hash())."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def assign_splits(protein_codes: np.ndarray, protein_names: list[str], seed: int) -> np.ndarray:
    """Split codes (0 train, 1 val, 2 test; indices into SPLITS) for cells given their protein codes.

    Each protein's cells are permuted by a generator seeded from (seed, protein name), so a protein's
    split does not depend on which other proteins are in the set or on the order of the cells' proteins.
    ``protein_codes``: (n_cells,) ints indexing ``protein_names``."""
    protein_codes = np.asarray(protein_codes)
    splits = np.zeros(len(protein_codes), dtype=np.int8)
    order = np.argsort(protein_codes, kind="stable")
    bounds = np.searchsorted(protein_codes[order], np.arange(len(protein_names) + 1))
    for code, name in enumerate(protein_names):
        cells = order[bounds[code] : bounds[code + 1]]
        if len(cells) == 0:
            continue
        n_train, n_val, n_test = split_sizes(len(cells))
        pattern = np.repeat(np.arange(3, dtype=np.int8), [n_train, n_val, n_test])
        rng = np.random.default_rng(stable_seed("split", seed, name))
        splits[cells] = pattern[rng.permutation(len(cells))]
    return splits


assert SPLITS == ("train", "val", "test")
