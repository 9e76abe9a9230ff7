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


def open_cells(
    spec: str = "demo",
    *,
    labels=None,
    seed: int = 0,
    cache_dir=None,
    progress=None,
    n_proteins: int | None = None,
    cells_per_protein: int | None = None,
) -> CellSet:
    """Open a cell source. ``spec``: "demo" (the synthetic proteome, generated once and cached), a
    TIFF-layout folder (``<root>/<PROTEIN>/<name>_gfp.tif`` + ``_rfp.tif``) or a shard folder (auto-detected).

    ``labels``: a labels table path or {protein: class} mapping (default: the shipped Huh 2003 classes);
    ``seed``: the split seed (for "demo" also the generator seed); ``progress``: ``progress(stage, done,
    total)`` (repbench.progress) or None; ``n_proteins`` / ``cells_per_protein``: size of the "demo" set only."""
    from .sources import open_cells as _open

    return _open(
        spec,
        labels=labels,
        seed=seed,
        cache_dir=cache_dir,
        progress=progress,
        n_proteins=n_proteins,
        cells_per_protein=cells_per_protein,
    )


_SUBMODULES = ("shards", "synthetic", "labels", "tiff_layout", "preprocess", "sources", "montage")
#: public names re-exported lazily: name -> submodule that defines it
_EXPORTS = {
    "ShardCellSet": "shards",
    "convert": "shards",
    "TiffCellSet": "tiff_layout",
    "generate": "synthetic",
    "CLASSES": "labels",
    "huh_classes": "labels",
    "describe": "sources",
    "standardise": "preprocess",
}


def __getattr__(name: str):
    # Lazy access (repbench.data.shards, repbench.data.ShardCellSet, ...) keeps `import repbench.data` light.
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CROP_SHAPE", "SPLITS", "CellSet", "open_cells", *_SUBMODULES, *_EXPORTS]
