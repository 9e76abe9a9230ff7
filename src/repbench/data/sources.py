"""``open_cells``: pick the right CellSet for a spec, and ``describe`` a CellSet for ``repbench data info``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import RepbenchError, UsageError
from . import SPLITS, CellSet


def parse_demo_spec(spec: str) -> dict[str, int]:
    """``"demo:proteins=20,cells=8"`` -> {"proteins": 20, "cells": 8}; plain ``"demo"`` -> {}."""
    sizes: dict[str, int] = {}
    for part in filter(None, spec.partition(":")[2].split(",")):
        key, _, value = part.partition("=")
        if key.strip() not in ("proteins", "cells") or not value.strip().isdigit() or int(value) < 1:
            raise UsageError(
                "data-bad-spec", f"bad data spec {spec!r}: expected demo:proteins=N,cells=M (positive integers)"
            )
        sizes[key.strip()] = int(value)
    return sizes


def open_cells(
    spec: str | Path = "demo",
    *,
    labels=None,
    seed: int = 0,
    cache_dir=None,
    progress=None,
    n_proteins: int | None = None,
    cells_per_protein: int | None = None,
) -> CellSet:
    if str(spec) == "demo" or str(spec).startswith("demo:"):
        from . import synthetic

        sizes = parse_demo_spec(str(spec))
        n_proteins = sizes.get("proteins", n_proteins)
        cells_per_protein = sizes.get("cells", cells_per_protein)

        return synthetic.open_demo(
            n_proteins=synthetic.DEFAULT_PROTEINS if n_proteins is None else n_proteins,
            cells_per_protein=synthetic.DEFAULT_CELLS if cells_per_protein is None else cells_per_protein,
            seed=seed,
            cache_dir=cache_dir,
            progress=progress,
            labels=labels,
        )
    if n_proteins is not None or cells_per_protein is not None:
        raise UsageError("data-option-conflict", "n_proteins / cells_per_protein apply to the 'demo' set only")
    path = Path(spec)
    if not path.exists():
        raise RepbenchError(
            "data-not-found", "no such folder (expected 'demo', a TIFF-layout folder or a shard folder)", path=path
        )
    from . import shards, tiff_layout

    if shards.is_shard_folder(path):
        return shards.ShardCellSet(path, labels=labels, seed=seed)
    if path.is_dir() and tiff_layout.is_tiff_layout(path):
        return tiff_layout.TiffCellSet(path, labels=labels, seed=seed, progress=progress)
    raise RepbenchError(
        "data-unknown-format",
        "neither a shard folder (header.json) nor a TIFF layout (<PROTEIN>/<name>_gfp.tif + <name>_rfp.tif)",
        path=path,
    )


def describe(cells: CellSet) -> dict:
    """A JSON-ready summary: cells, proteins, split counts, classes and labelled cells per class, dataset tag."""
    index = cells.index
    split_counts = index["split"].value_counts()
    labels = index["label"].to_numpy()
    per_class = np.bincount(labels[labels >= 0], minlength=len(cells.classes)) if len(cells.classes) else []
    return {
        "name": cells.name,
        "format": type(cells).__name__,
        "dataset": cells.dataset,
        "cells": int(len(cells)),
        "proteins": int(index["protein"].nunique()),
        "splits": {s: int(split_counts.get(s, 0)) for s in SPLITS},
        "classes": list(cells.classes),
        "labelled_cells": int((labels >= 0).sum()),
        "labelled_proteins": int(index.loc[labels >= 0, "protein"].nunique()),
        "cells_per_class": {c: int(n) for c, n in zip(cells.classes, per_class)},
    }
