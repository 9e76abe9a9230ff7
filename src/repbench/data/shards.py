"""The chunked on-disk format for whole screens: .npy crop shards + a Parquet index + a JSON header.

::

    OUT/
      header.json          format, format_version, dataset tag, classes, cells, cells_per_shard, dtype, ...
      index.parquet        one row per cell, in cell-id order: protein, split, label, shard, offset, cell
      shards/00000.npy     raw crops (n, 2, 64, 64) float16 or float32, cells_per_shard per file (last: fewer)

Cell ``i`` lives in shard ``i // cells_per_shard`` at ``offset i % cells_per_shard`` (the index repeats
it for other readers). Shards hold the crops as acquired; :meth:`ShardCellSet.read` standardises them,
so reading a converted folder gives exactly what reading the TIFFs gives. Reads memory-map the shards
(``np.load(mmap_mode="r")``) and touch only the requested cells. Writing is atomic: everything goes to
``OUT.tmp`` which is renamed to ``OUT`` at the end.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import RepbenchError
from ..progress import Counter
from . import CROP_SHAPE, SPLITS
from .base import CellSetBase, make_index
from .labels import label_codes
from .preprocess import assign_splits, standardise

FORMAT = "repbench-shards"
FORMAT_VERSION = 1
HEADER = "header.json"
INDEX = "index.parquet"
SHARD_DIR = "shards"
DEFAULT_CELLS_PER_SHARD = 4096
DTYPES = ("float16", "float32")
_OPEN_SHARDS = 4  # memory maps kept open per CellSet (few file handles; mapped pages leave RSS on close)


def is_shard_folder(path: Path) -> bool:
    return (Path(path) / HEADER).is_file()


def shard_path(root: Path, shard: int) -> Path:
    return Path(root) / SHARD_DIR / f"{shard:05d}.npy"


def _index_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("protein", pa.string()),
            ("split", pa.string()),
            ("label", pa.int16()),
            ("shard", pa.int32()),
            ("offset", pa.int32()),
            ("cell", pa.string()),
        ]
    )


class ShardWriter:
    """Streams cells into a new shard folder, protein by protein; atomic on :meth:`finish`.

    Usage: ``with ShardWriter(out, n_cells, ...) as w: w.add(...); ...; w.finish(header_fields)``. If the
    block is left by an exception, the temporary folder is removed and ``out`` is untouched."""

    def __init__(
        self,
        out: str | Path,
        n_cells: int,
        *,
        dtype: str = "float32",
        cells_per_shard: int = DEFAULT_CELLS_PER_SHARD,
        overwrite: bool = False,
    ):
        import pyarrow.parquet as pq

        if dtype not in DTYPES:
            raise RepbenchError("shards-bad-dtype", f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if cells_per_shard < 1:
            raise RepbenchError("shards-bad-size", f"cells_per_shard must be >= 1, got {cells_per_shard}")
        self.out = Path(out)
        if self.out.exists() and not overwrite:
            raise RepbenchError(
                "data-out-exists", "output folder already exists (choose another, or --overwrite)", path=self.out
            )
        self.tmp = self.out.with_name(self.out.name + ".tmp")
        if self.tmp.exists():  # left over by a killed run
            shutil.rmtree(self.tmp)
        (self.tmp / SHARD_DIR).mkdir(parents=True)
        self.n_cells, self.dtype, self.cells_per_shard = n_cells, dtype, cells_per_shard
        self.written = 0
        self._shard: np.memmap | None = None
        self._index = pq.ParquetWriter(self.tmp / INDEX, _index_schema())
        self.proteins: list[str] = []
        self.split_counts = np.zeros(3, dtype=np.int64)

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._close_files()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _close_files(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard = None
        if self._index is not None:
            self._index.close()
            self._index = None

    def _write_crops(self, crops: np.ndarray) -> None:
        done = 0
        while done < len(crops):
            shard, offset = divmod(self.written, self.cells_per_shard)
            if offset == 0:  # start the next shard file at its final size
                if self._shard is not None:
                    self._shard.flush()
                size = min(self.cells_per_shard, self.n_cells - self.written)
                self._shard = np.lib.format.open_memmap(
                    shard_path(self.tmp, shard), mode="w+", dtype=self.dtype, shape=(size, *CROP_SHAPE)
                )
            take = min(len(crops) - done, len(self._shard) - offset)
            self._shard[offset : offset + take] = crops[done : done + take]
            done += take
            self.written += take

    def add(
        self, protein: str, crops: np.ndarray, splits: np.ndarray, label: int, cell_names: Iterable[str] | None = None
    ) -> None:
        """Append cells of one protein: raw crops (k, 2, 64, 64), split codes (k,) into SPLITS, one label."""
        import pyarrow as pa

        crops = np.asarray(crops)
        if crops.shape[1:] != CROP_SHAPE:
            raise RepbenchError("data-wrong-shape", f"crops must be (k, 2, 64, 64), got {crops.shape}")
        if self.written + len(crops) > self.n_cells:
            raise RepbenchError("shards-too-many-cells", f"more cells than the {self.n_cells} announced")
        if protein not in self.proteins[-1:]:
            self.proteins.append(protein)
        first = self.written
        self._write_crops(crops)
        ids = np.arange(first, self.written)
        splits = np.asarray(splits, dtype=np.int64)
        self.split_counts += np.bincount(splits, minlength=3)
        names = list(cell_names) if cell_names is not None else [str(i) for i in ids]
        self._index.write_table(
            pa.table(
                {
                    "protein": [protein] * len(ids),
                    "split": np.asarray(SPLITS, dtype=object)[splits],
                    "label": np.full(len(ids), label, dtype=np.int16),
                    "shard": (ids // self.cells_per_shard).astype(np.int32),
                    "offset": (ids % self.cells_per_shard).astype(np.int32),
                    "cell": names,
                },
                schema=_index_schema(),
            )
        )

    def finish(self, *, dataset: str, classes: list[str], split_seed: int, **extra) -> Path:
        """Write the header and move the folder into place; returns the final path."""
        if self.written != self.n_cells:
            raise RepbenchError("shards-too-few-cells", f"{self.written} cells written, {self.n_cells} announced")
        self._close_files()
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "dataset": dataset,
            "classes": list(classes),
            "cells": int(self.n_cells),
            "proteins": len(set(self.proteins)),
            "cells_per_shard": int(self.cells_per_shard),
            "shards": int(-(-self.n_cells // self.cells_per_shard)),
            "dtype": self.dtype,
            "crop_shape": list(CROP_SHAPE),
            "channels": ["GFP (tagged protein)", "RFP (cytoplasm marker)"],
            "split_seed": int(split_seed),
            "split_counts": dict(zip(SPLITS, map(int, self.split_counts))),
            **extra,
        }
        (self.tmp / HEADER).write_text(json.dumps(header, indent=2) + "\n")
        if self.out.exists():  # only reachable with overwrite=True
            shutil.rmtree(self.out)
        os.replace(self.tmp, self.out)
        return self.out


def read_header(path: str | Path) -> dict:
    path = Path(path)
    try:
        header = json.loads((path / HEADER).read_text())
    except FileNotFoundError:
        raise RepbenchError("shards-missing-file", f"no {HEADER}: not a shard folder", path=path)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RepbenchError("shards-bad-header", f"{HEADER} is not valid JSON ({error})", path=path / HEADER)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RepbenchError("shards-bad-header", f"{HEADER} does not describe a {FORMAT} folder", path=path / HEADER)
    if header.get("format_version") != FORMAT_VERSION:
        raise RepbenchError(
            "shards-bad-header",
            f"format_version {header.get('format_version')} is not supported (this repbench reads {FORMAT_VERSION})",
            path=path / HEADER,
        )
    missing = [k for k in ("dataset", "classes", "cells", "cells_per_shard", "dtype") if k not in header]
    if missing:
        raise RepbenchError("shards-bad-header", f"{HEADER} lacks {', '.join(missing)}", path=path / HEADER)
    return header


class ShardCellSet(CellSetBase):
    """A CellSet over a shard folder. ``labels`` replaces the stored labels (a table path or mapping);
    ``seed`` other than the stored split seed re-draws the splits with that seed."""

    def __init__(self, path: str | Path, *, labels=None, seed: int | None = None):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.name = str(self.path)
        self.header = read_header(self.path)
        self.dataset = str(self.header["dataset"])
        self.classes = list(self.header["classes"])
        self.cells_per_shard = int(self.header["cells_per_shard"])
        try:
            table = pq.read_table(
                self.path / INDEX,
                columns=["protein", "split", "label", "shard", "offset"],
                read_dictionary=["protein", "split"],
            )
        except (OSError, ValueError) as error:  # pyarrow's errors subclass these
            raise RepbenchError("shards-bad-index", f"cannot read {INDEX} ({error})", path=self.path / INDEX)
        frame = table.to_pandas()
        n = int(self.header["cells"])
        ids = np.arange(len(frame))
        if len(frame) != n or not (
            np.array_equal(frame["shard"].to_numpy(), ids // self.cells_per_shard)
            and np.array_equal(frame["offset"].to_numpy(), ids % self.cells_per_shard)
        ):
            raise RepbenchError(
                "shards-bad-index",
                f"{INDEX} does not match the header ({len(frame)} rows, {n} cells, {self.cells_per_shard} per shard)",
                path=self.path / INDEX,
            )
        n_shards = -(-n // self.cells_per_shard)
        missing = [shard_path(self.path, s).name for s in range(n_shards) if not shard_path(self.path, s).is_file()]
        if missing:
            raise RepbenchError("shards-missing-file", "shard files are missing", rows=missing, path=self.path)
        protein = frame["protein"].astype("category")
        protein = protein.cat.remove_unused_categories()
        proteins = list(protein.cat.categories)
        codes = protein.cat.codes.to_numpy()
        split = pd.Categorical(frame["split"], categories=list(SPLITS)).codes
        labels_column = frame["label"].to_numpy()
        if labels is not None:
            self.classes, by_protein = label_codes(proteins, labels)
            labels_column = np.array([by_protein.get(p, -1) for p in proteins], dtype=np.int16)[codes]
        self.seed = int(self.header.get("split_seed", 0)) if seed is None else int(seed)
        if seed is not None and seed != self.header.get("split_seed"):
            split = assign_splits(codes, proteins, seed)
        self.index = make_index(codes, proteins, split, labels_column)
        self._maps: OrderedDict[int, np.ndarray] = OrderedDict()

    def _shard(self, shard: int) -> np.ndarray:
        """The memory map of one shard (a small LRU keeps the most recent ones open)."""
        if shard in self._maps:
            self._maps.move_to_end(shard)
            return self._maps[shard]
        path = shard_path(self.path, shard)
        try:
            array = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise RepbenchError("shards-bad-shard", f"cannot memory-map shard ({error})", path=path)
        if array.shape[1:] != CROP_SHAPE:
            raise RepbenchError(
                "shards-bad-shard", f"shard has shape {array.shape}, expected (n, 2, 64, 64)", path=path
            )
        self._maps[shard] = array
        if len(self._maps) > _OPEN_SHARDS:
            self._maps.popitem(last=False)
        return array

    def read_raw(self, cell_ids) -> np.ndarray:
        """Crops as stored, float32 (k, 2, 64, 64), in the order of ``cell_ids``."""
        ids = self._check_ids(cell_ids)
        out = np.empty((len(ids), *CROP_SHAPE), dtype=np.float32)
        shards, offsets = np.divmod(ids, self.cells_per_shard)
        for shard in np.unique(shards):
            where = np.flatnonzero(shards == shard)
            array = self._shard(int(shard))
            wanted = offsets[where]
            if wanted.max() >= len(array):
                raise RepbenchError(
                    "shards-bad-shard",
                    f"shard holds {len(array)} cells, offset {wanted.max()} requested",
                    path=shard_path(self.path, int(shard)),
                )
            order = np.argsort(wanted, kind="stable")  # sorted offsets: sequential reads of the mapped file
            out[where[order]] = array[wanted[order]]
        return out

    def read(self, cell_ids) -> np.ndarray:
        return standardise(self.read_raw(cell_ids))


def convert(
    src: str | Path,
    out: str | Path,
    progress=None,
    *,
    labels=None,
    seed: int = 0,
    dtype: str = "float32",
    cells_per_shard: int = DEFAULT_CELLS_PER_SHARD,
    overwrite: bool = False,
    batch_size: int = 256,
) -> Path:
    """Convert a TIFF-layout folder to a shard folder, streaming: at most ``batch_size`` crops in memory.

    A first pass lists and checks the protein folders (GFP/RFP pairing) and counts the cells; the second
    reads the TIFFs. Any error leaves ``out`` untouched (the work happens in ``out.tmp``)."""
    from .tiff_layout import read_cell, scan_layout

    src, out = Path(src), Path(out)
    step = Counter(progress, "checking folders")
    counts: dict[str, int] = {}
    for folder in scan_layout(src):
        counts[folder.protein] = len(folder.cells)
        step()
    n_cells = sum(counts.values())
    proteins = list(counts)
    classes, label_of = label_codes(proteins, labels)
    step = Counter(progress, "converting cells", n_cells)
    with ShardWriter(out, n_cells, dtype=dtype, cells_per_shard=cells_per_shard, overwrite=overwrite) as writer:
        for folder in scan_layout(src):
            splits = assign_splits(np.zeros(len(folder.cells), dtype=np.int64), [folder.protein], seed)
            for start in range(0, len(folder.cells), batch_size):
                names = folder.cells[start : start + batch_size]
                crops = np.stack([read_cell(folder, name) for name in names])
                writer.add(
                    folder.protein,
                    crops,
                    splits[start : start + batch_size],
                    label_of.get(folder.protein, -1),
                    cell_names=names,
                )
                step(len(names))
        if writer.written != n_cells:
            raise RepbenchError("data-changed", "the source folder changed during conversion", path=src)
        labels_source = "huh2003" if labels is None else (str(labels) if isinstance(labels, (str, Path)) else "mapping")
        return writer.finish(
            dataset="real", classes=classes, split_seed=seed, source=str(src), labels_source=labels_source
        )
