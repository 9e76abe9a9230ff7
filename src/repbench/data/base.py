"""What every CellSet implementation shares: building the compact index, checking ids, batching."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from ..errors import RepbenchError
from . import SPLITS


def make_index(
    protein_codes: np.ndarray, protein_names: list[str], split_codes: np.ndarray, labels: np.ndarray
) -> pd.DataFrame:
    """The CellSet index from integer codes: categorical protein and split, int16 label.

    About 7 bytes per cell (protein code int16/int32, split code int8, label int16): 10 M cells ~ 70 MB."""
    protein = pd.Categorical.from_codes(np.asarray(protein_codes), categories=pd.Index(protein_names, dtype=object))
    split = pd.Categorical.from_codes(np.asarray(split_codes, dtype=np.int8), categories=list(SPLITS))
    return pd.DataFrame({"protein": protein, "split": split, "label": np.asarray(labels, dtype=np.int16)})


class CellSetBase:
    """Mixin for CellSet implementations: ``__len__``, id checking and :meth:`iter_batches`."""

    name: str
    dataset: str
    classes: list[str]
    index: pd.DataFrame

    def __len__(self) -> int:
        return len(self.index)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, dataset={self.dataset!r}, cells={len(self)}, "
            f"proteins={self.index['protein'].nunique()})"
        )

    def _check_ids(self, cell_ids) -> np.ndarray:
        ids = np.asarray(cell_ids)
        if ids.dtype == bool or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise RepbenchError("data-bad-cell-ids", f"cell ids must be integers, got dtype {ids.dtype}")
        ids = ids.astype(np.int64, copy=False).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            bad = ids[(ids < 0) | (ids >= len(self))]
            raise RepbenchError("data-bad-cell-ids", f"cell ids out of range 0..{len(self) - 1}", rows=bad.tolist())
        return ids

    def iter_batches(self, cell_ids=None, batch_size: int = 256) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (ids, crops) in order: ids (b,) int64 and crops float32 (b, 2, 64, 64); all cells when
        ``cell_ids`` is None. Only one batch of crops is in memory at a time."""
        ids = np.arange(len(self)) if cell_ids is None else self._check_ids(cell_ids)
        if batch_size < 1:
            raise RepbenchError("data-bad-batch-size", f"batch_size must be >= 1, got {batch_size}")
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            yield chunk, self.read(chunk)

    def read(self, cell_ids) -> np.ndarray:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def ids_of(self, split: str) -> np.ndarray:
        """Cell ids (int64) of one split."""
        if split not in SPLITS:
            raise RepbenchError("data-bad-split", f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return np.flatnonzero(self.index["split"].to_numpy() == split)
