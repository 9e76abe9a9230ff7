"""The on-disk layout of real screen crops: ``<root>/<PROTEIN>/<name>_gfp.tif`` + ``<name>_rfp.tif``.

Each protein folder holds one pair of 64x64 single-channel TIFFs per cell: the tagged protein (GFP,
channel 0) and the cytoplasm marker (RFP, channel 1) of the same cell share ``<name>``. Protein folder
names are kept as given (gene names such as AAC1); mapping them to ORFs is the evaluator's job.
Cells are ordered by protein folder (sorted) and then by name in natural order (cell 2 before cell 10).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import RepbenchError
from ..progress import Counter
from . import CROP_SHAPE
from .base import CellSetBase, make_index
from .labels import label_codes
from .preprocess import assign_splits, standardise

GFP_SUFFIX = "_gfp.tif"
RFP_SUFFIX = "_rfp.tif"


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers numerically: AAC1_1_rfp_2 < AAC1_1_rfp_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class ProteinFolder:
    protein: str
    folder: Path
    cells: list[str]  # cell names, natural order; files are folder/<name>_gfp.tif and _rfp.tif

    def paths(self, name: str) -> tuple[Path, Path]:
        return self.folder / f"{name}{GFP_SUFFIX}", self.folder / f"{name}{RFP_SUFFIX}"


def protein_folders(root: str | Path) -> list[Path]:
    """The protein folders under ``root`` (sorted by name); errors if there are none."""
    root = Path(root)
    if not root.is_dir():
        raise RepbenchError("data-not-found", "no such folder", path=root)
    folders = sorted(
        (Path(e.path) for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")), key=lambda p: p.name
    )
    if not folders:
        raise RepbenchError("data-empty-folder", "no protein folders (<root>/<PROTEIN>/<name>_gfp.tif)", path=root)
    return folders


def scan_protein(folder: Path) -> ProteinFolder:
    """List one protein folder's cells and check that every GFP file has its RFP partner and vice versa."""
    gfp, rfp = set(), set()
    for entry in os.scandir(folder):
        lower = entry.name.lower()
        if lower.endswith(GFP_SUFFIX):
            gfp.add(entry.name[: -len(GFP_SUFFIX)])
        elif lower.endswith(RFP_SUFFIX):
            rfp.add(entry.name[: -len(RFP_SUFFIX)])
    if not gfp and not rfp:
        raise RepbenchError(
            "data-empty-folder", f"protein folder has no *{GFP_SUFFIX} / *{RFP_SUFFIX} files", path=folder
        )
    if gfp - rfp:
        missing = sorted(gfp - rfp, key=natural_key)
        raise RepbenchError(
            "data-missing-rfp",
            f"{len(missing)} GFP file(s) without the matching *{RFP_SUFFIX}",
            rows=[f"{n}{GFP_SUFFIX}" for n in missing],
            path=folder / f"{missing[0]}{GFP_SUFFIX}",
        )
    if rfp - gfp:
        missing = sorted(rfp - gfp, key=natural_key)
        raise RepbenchError(
            "data-missing-gfp",
            f"{len(missing)} RFP file(s) without the matching *{GFP_SUFFIX}",
            rows=[f"{n}{RFP_SUFFIX}" for n in missing],
            path=folder / f"{missing[0]}{RFP_SUFFIX}",
        )
    return ProteinFolder(folder.name, folder, sorted(gfp, key=natural_key))


def scan_layout(root: str | Path) -> Iterator[ProteinFolder]:
    """Yield each protein folder of the layout, checked, one at a time (so a huge screen is never listed whole)."""
    for folder in protein_folders(root):
        yield scan_protein(folder)


def is_tiff_layout(root: Path) -> bool:
    """True when some protein folder under ``root`` holds a *_gfp.tif (a cheap sniff, not a validation)."""
    try:
        for entry in os.scandir(root):
            if entry.is_dir():
                return any(e.name.lower().endswith(GFP_SUFFIX) for e in os.scandir(entry.path))
    except OSError:
        return False
    return False


def read_channel(path: Path) -> np.ndarray:
    """One 64x64 channel as float32; errors name the file."""
    import tifffile

    try:
        image = tifffile.imread(path)
    except Exception as error:  # tifffile raises several types for corrupt files
        raise RepbenchError("data-unreadable-tiff", f"cannot read TIFF ({type(error).__name__}: {error})", path=path)
    image = np.asarray(image)
    if np.squeeze(image).shape != CROP_SHAPE[1:]:  # (1, 64, 64) or (64, 64, 1) pass as single-channel
        raise RepbenchError(
            "data-wrong-shape",
            f"expected a {CROP_SHAPE[1]}x{CROP_SHAPE[2]} single-channel crop, got shape {image.shape}",
            path=path,
        )
    return np.squeeze(image).astype(np.float32, copy=False)


def read_cell(folder: ProteinFolder, name: str) -> np.ndarray:
    """One raw cell, float32 (2, 64, 64): channel 0 GFP, channel 1 RFP."""
    gfp, rfp = folder.paths(name)
    return np.stack([read_channel(gfp), read_channel(rfp)])


class TiffCellSet(CellSetBase):
    """A CellSet over a TIFF-layout folder; crops are read from disk on each :meth:`read`.

    Meant for small sets (the file list is held in memory); convert big screens to shards."""

    def __init__(self, root: str | Path, *, labels=None, seed: int = 0, progress=None):
        root = Path(root)
        self.name = str(root)
        self.dataset = "real"
        folders = []
        step = Counter(progress, "scanning protein folders")
        for folder in scan_layout(root):
            folders.append(folder)
            step()
        self.folders = folders
        proteins = [f.protein for f in folders]
        protein_codes = np.repeat(np.arange(len(folders)), [len(f.cells) for f in folders])
        #: cell id -> (folder position, cell name)
        self._cells = [(i, name) for i, f in enumerate(folders) for name in f.cells]
        self.classes, codes = label_codes(proteins, labels)
        label_of_protein = np.array([codes.get(p, -1) for p in proteins], dtype=np.int16)
        self.index = make_index(
            protein_codes, proteins, assign_splits(protein_codes, proteins, seed), label_of_protein[protein_codes]
        )
        self.seed = seed

    def cell_paths(self, cell_id: int) -> tuple[Path, Path]:
        folder, name = self._cells[int(cell_id)]
        return self.folders[folder].paths(name)

    def read_raw(self, cell_ids) -> np.ndarray:
        """Unstandardised crops as stored, float32 (k, 2, 64, 64)."""
        ids = self._check_ids(cell_ids)
        out = np.empty((len(ids), *CROP_SHAPE), dtype=np.float32)
        for k, cell_id in enumerate(ids):
            folder, name = self._cells[cell_id]
            out[k] = read_cell(self.folders[folder], name)
        return out

    def read(self, cell_ids) -> np.ndarray:
        return standardise(self.read_raw(cell_ids))
