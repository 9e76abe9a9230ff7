"""Crops from a CellSet into batches: epoch order, flips and rotations, features, per-protein means
(:func:`repbench.embedders.protein_means`, and its torchrun form :func:`gathered_protein_means`)."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import pandas as pd
import torch

from ..embedders import protein_means  # noqa: F401  (re-exported: repbench.torch.protein_means)
from .runtime import Runtime
from .seeding import generator


def labelled_ids(cells, split: str) -> np.ndarray:
    """Cell ids of ``split`` whose protein has a class (label >= 0): what a classifier trains on."""
    index = cells.index
    mask = (index["split"] == split).to_numpy() & (index["label"].to_numpy() >= 0)
    return np.flatnonzero(mask)


def split_ids(cells, split: str) -> np.ndarray:
    """All cell ids of ``split``, labelled or not (every protein with test cells gets a vector)."""
    return np.flatnonzero((cells.index["split"] == split).to_numpy())


def epoch_order(cell_ids: np.ndarray, seed: int, epoch: int, limit: int | None = None) -> np.ndarray:
    """The training order of one epoch: a permutation drawn from (seed, epoch) alone, cut to ``limit``
    cells (a different random subset each epoch when ``limit`` < len(cell_ids))."""
    order = torch.randperm(len(cell_ids), generator=generator(seed, epoch, "order")).numpy()
    if limit is not None:
        order = order[:limit]
    return np.asarray(cell_ids)[order]


def augment_dihedral(crops: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each crop (b, c, h, w) turned by one of the 8 flips/90-degree rotations of the square, drawn from
    ``gen``: a cell has no preferred orientation in the image, so the label must not depend on it."""
    choice = torch.randint(0, 8, (crops.shape[0],), generator=gen).to(crops.device)
    out = crops.clone()
    for k in range(1, 8):
        picked = (choice == k).nonzero().flatten()
        if picked.numel() == 0:
            continue
        turned = torch.rot90(crops[picked], k % 4, dims=(2, 3))
        out[picked] = turned.flip(3) if k >= 4 else turned
    return out


def iter_crops(cells, cell_ids: np.ndarray, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(ids, crops)`` in the order given, ``crops`` float32 (b, 2, 64, 64); one batch in memory at a time."""
    for start in range(0, len(cell_ids), batch_size):
        ids = np.asarray(cell_ids[start : start + batch_size])
        yield ids, cells.read(ids)


@torch.no_grad()
def features_of_cells(
    features: Callable[[torch.Tensor], torch.Tensor],
    cells,
    cell_ids: np.ndarray,
    runtime: Runtime,
    batch_size: int = 256,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``features(batch) -> (b, d)`` for every cell in ``cell_ids``, in order: float32 (n, d).
    The caller puts the model in eval mode; computed under the runtime's autocast, returned in float32."""
    parts = []
    for ids, crops in iter_crops(cells, cell_ids, batch_size):
        with runtime.autocast():
            out = features(runtime.batch(crops))
        parts.append(out.float().cpu().numpy())
        if on_batch is not None:
            on_batch(len(ids))
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def gathered_protein_means(
    proteins: np.ndarray, rows: np.ndarray, vectors: np.ndarray, dim: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`protein_means` when the cells are spread over the processes of a torchrun job.

    ``proteins`` (n,): the protein of every cell (the same array in every process); ``rows`` (k,): the
    positions in it of the cells this process embedded; ``vectors`` (k, dim): their vectors. Per-protein
    float64 sums and counts are added up over all processes before dividing, so the result is the mean
    over every cell once, whichever process embedded it (equal to one process's up to summation order).
    Returns (names in order of first appearance in ``proteins``, means (p, d) float32, counts (p,) int64)."""
    from . import distributed

    codes, names = pd.factorize(pd.Series(np.asarray(proteins, dtype=object)), sort=False)
    sums = np.zeros((len(names), dim), np.float64)
    if len(rows):
        np.add.at(sums, codes[rows], vectors)
    counts = np.bincount(codes[rows], minlength=len(names)).astype(np.int64)
    sums, counts = distributed.all_reduce_sum(sums), distributed.all_reduce_sum(counts)
    return [str(n) for n in names], (sums / counts[:, None]).astype(np.float32), counts
