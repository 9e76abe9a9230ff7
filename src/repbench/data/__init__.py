"""Single-cell data sets: the real TIFF layout, the chunked shard format, and the synthetic proteome.

Every source is a :class:`CellSet`: an index with one row per cell (protein, split, label) and a ``read``
that returns preprocessed crops for given cell ids, so that a screen of millions of cells is streamed in
batches and never held in memory whole.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

CROP_SHAPE = (2, 64, 64)  # channel 0: tagged protein (GFP); channel 1: cytoplasm marker (RFP)
SPLITS = ("train", "val", "test")


@runtime_checkable
class CellSet(Protocol):
    name: str  # "demo" or the path it was opened from
    dataset: str  # "synthetic" | "real": results on synthetic data are never ranked with real ones
    classes: list[str]  # localization classes; label k in the index means classes[k]
    #: one row per cell, row position = cell id. Columns: protein (str), split (one of SPLITS),
    #: label (int, -1 when the protein has no usable class).
    index: pd.DataFrame

    def read(self, cell_ids: np.ndarray) -> np.ndarray:
        """Crops of the given cells, float32 (len(cell_ids), 2, 64, 64), standardised per crop and channel."""
        ...

    def __len__(self) -> int: ...
