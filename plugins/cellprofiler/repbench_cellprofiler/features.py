"""CellProfiler measurements of single-cell crops, computed by cp-measure (CellProfiler's own code as a library).

Per crop: the cell mask from the RFP channel (:mod:`.segment`), then cp-measure's feature families on the GFP
channel inside that mask (intensity, size/shape with Zernike moments, Feret diameters, Haralick texture,
granularity, radial distribution with intensity Zernikes) and the GFP-RFP correlation measures.

Speed: cp-measure measures every object of a label image in one call, and for 64x64 crops its per-call
overhead dominates. :func:`measure_crops` therefore pastes a batch of crops into one mosaic, each crop in
its own tile with a zero frame (``GAP`` pixels) and its own label, and measures the mosaic once per family.
Every measurement is per object and the frames keep objects apart, so a cell's features depend on its own
crop only, never on the other crops in its batch (tests/test_cellprofiler.py checks this; the one exception is
round-off: a pixel exactly on a cell's enclosing circle may fall in or out of the Zernike unit disk, ~1e-3 of
a Zernike moment, depending on the tile's absolute coordinates). Features that
would describe the cell's place in the mosaic rather than the cell (centroids, bounding boxes, raw spatial
moments, positions of the intensity maximum) are dropped, as are the intensity-Zernike phases (they only
say how the cell happens to be rotated).

Parameters are CellProfiler's defaults except where speed on 64x64 crops asked for less (docs/embedders.md
lists each choice and docs/performance.md the cost of each family).
"""

from __future__ import annotations

import re
import time
import warnings
from typing import Callable

import numpy as np
from cp_measure.bulk import get_core_measurements, get_correlation_measurements

from .segment import cell_mask, rescale_unit

CROP = 64
GAP = 4  # zero frame around every tile: objects never touch, and each sees the same border
TILE = CROP + GAP

# family -> (cp-measure function name, keyword arguments); measured on the mosaic
CORE_FAMILIES: dict[str, tuple[str, dict]] = {
    "intensity": ("intensity", {}),
    "sizeshape": ("sizeshape", {}),
    "zernike": ("zernike", {"zernike_numbers": 9}),  # CellProfiler default degree
    "feret": ("feret", {}),
    # CellProfiler 3+ uses 256 grey levels; mahotas' Haralick cost grows with levels^2 (~190 ms CPU per cell at
    # 256, 2-3 ms at 64), and a crop's cell spans far fewer than 64 distinguishable levels anyway.
    "texture": ("texture", {"scale": 3, "gray_levels": 64}),
    "radial_distribution": ("radial_distribution", {"bin_count": 4}),
    "radial_zernikes": ("radial_zernikes", {"zernike_degree": 9}),
}
# Granularity is measured on each crop alone: it subsamples the image by 1/4 and maps the result back with a
# scale of (n/4 - 1) / (n - 1), which is not exactly 1/4, so in a mosaic a tile's features would shift with
# its place in the mosaic. CellProfiler defaults except the spectrum length (16 -> 6): at 1/4 subsampling one
# step is 4 px of the crop, so steps beyond 6 (24 px) exceed the radius of a yeast cell.
PER_CROP_FAMILIES: dict[str, tuple[str, dict]] = {
    "granularity": (
        "granularity",
        {"subsample_size": 0.25, "image_sample_size": 0.25, "element_size": 10, "granular_spectrum_length": 6},
    ),
}
# Correlation families take (gfp, rfp, labels). Costes searches its thresholds on a 0..255 grid (8-bit,
# like the original CellProfiler images); it needs an explicit grid for float images. It is off by default
# (option costes=true): each step of its threshold search calls scipy.stats.pearsonr (~1 ms of overhead), so
# Costes alone costs a third of all CPU time and puts 50 cells/s on 2 cores out of reach (docs/performance.md).
CORRELATION_FAMILIES: dict[str, tuple[str, dict]] = {
    "pearson": ("pearson", {}),
    "manders_fold": ("manders_fold", {}),
    "rwc": ("rwc", {}),
}
COSTES = ("costes", {"scale_max": 255})
_with_costes = False


def set_costes(enabled: bool) -> None:
    """Include the Costes coefficients (two features, slow) in this process's measurements."""
    global _with_costes
    _with_costes = bool(enabled)


#: names of features that describe where the cell sits in the mosaic (or its rotation), not the cell
_POSITIONAL = re.compile(r"Location_|Center_|BoundingBoxM|SpatialMoment_|ZernikePhase_")

#: a mask smaller than this (pixels) is a failed segmentation, not a cell (a yeast cell covers ~300-1500 px);
#: such a cell counts as an empty mask
MIN_CELL_AREA = 16

# status of a cell after measure_crops
OK, EMPTY_MASK, FAILED = 0, 1, 2


def family_functions() -> dict[str, tuple[Callable, dict, str]]:
    """family -> (function, kwargs, how: "mosaic" | "per_crop" | "correlation"), in feature-vector order."""
    core, correlation = get_core_measurements(), get_correlation_measurements()
    families = {name: (core[fn], kw, "mosaic") for name, (fn, kw) in CORE_FAMILIES.items()}
    families.update({name: (core[fn], kw, "per_crop") for name, (fn, kw) in PER_CROP_FAMILIES.items()})
    chosen = dict(CORRELATION_FAMILIES, **({"costes": COSTES} if _with_costes else {}))
    families.update({name: (correlation[fn], kw, "correlation") for name, (fn, kw) in chosen.items()})
    return families


def mosaic(gfp: list[np.ndarray], rfp: list[np.ndarray], masks: list[np.ndarray]):
    """k crops -> (gfp, rfp, labels) mosaics of shape (rows * TILE + GAP, cols * TILE + GAP); crop i has label i+1."""
    k = len(gfp)
    cols = max(1, int(np.ceil(np.sqrt(k))))
    rows = max(1, int(np.ceil(k / cols)))
    shape = (rows * TILE + GAP, cols * TILE + GAP)
    big_gfp, big_rfp, labels = np.zeros(shape), np.zeros(shape), np.zeros(shape, dtype=np.int32)
    for i in range(k):
        y, x = GAP + (i // cols) * TILE, GAP + (i % cols) * TILE
        tile = (slice(y, y + CROP), slice(x, x + CROP))
        big_gfp[tile], big_rfp[tile] = gfp[i], rfp[i]
        labels[tile][masks[i]] = i + 1
    return big_gfp, big_rfp, labels


def _measure_mosaic(gfp, rfp, masks, families, timings: dict | None) -> dict[str, np.ndarray]:
    """All families on one mosaic of k cells -> {feature name: (k,) float64}; raises if any family fails."""
    big_gfp, big_rfp, labels = mosaic(gfp, rfp, masks)
    out: dict[str, np.ndarray] = {}
    for family, (function, kwargs, how) in families.items():
        start = time.process_time()
        with warnings.catch_warnings():
            # cp-measure warns for undefined values (Costes on a flat cell, ...); they come back as NaN and
            # are counted by the caller, so the warnings themselves are noise here.
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                if how == "correlation":
                    values = function(big_gfp, big_rfp, labels, **kwargs)
                elif how == "mosaic":
                    values = function(labels, big_gfp, **kwargs)
                else:
                    alone = [function(m.astype(np.int32), g, **kwargs) for g, m in zip(gfp, masks)]
                    values = {name: np.concatenate([a[name] for a in alone]) for name in alone[0]}
        for name, column in values.items():
            if not _POSITIONAL.search(name):
                out[f"{family}:{name}"] = np.asarray(column, dtype=np.float64).reshape(len(gfp))
        if timings is not None:
            timings[family] = timings.get(family, 0.0) + time.process_time() - start
    return out


def measure_crops(crops: np.ndarray, timings: dict | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(k, 2, 64, 64) crops -> (feature names, float32 (k, F) values, int8 (k,) status).

    Rows of cells whose mask is empty or below MIN_CELL_AREA (status EMPTY_MASK), or whose measurement raised
    (FAILED), are NaN. When a family raises on the mosaic, its cells are measured one by one, so only the
    cell that breaks it fails. Values may be NaN for measured cells too (texture of a cell smaller than the
    texture scale, ...); the caller decides. ``timings`` (family -> seconds) is accumulated into when given
    (benchmarks).
    """
    families = family_functions()
    start = time.process_time()
    gfp = [rescale_unit(c[0]) for c in crops]
    rfp = [rescale_unit(c[1]) for c in crops]
    masks = [cell_mask(r) for r in rfp]
    if timings is not None:
        timings["mask"] = timings.get("mask", 0.0) + time.process_time() - start

    status = np.full(len(crops), OK, dtype=np.int8)
    status[[i for i, m in enumerate(masks) if m.sum() < MIN_CELL_AREA]] = EMPTY_MASK
    measured = np.flatnonzero(status == OK)
    names = feature_names()
    values = np.full((len(crops), len(names)), np.nan, dtype=np.float32)
    if len(measured):
        try:
            together = _measure_mosaic(
                [gfp[i] for i in measured], [rfp[i] for i in measured], [masks[i] for i in measured], families, timings
            )
            values[measured] = np.column_stack([together[n] for n in names])
        except Exception:  # noqa: BLE001 - one bad cell must not sink its batch: measure them one by one
            for i in measured:
                try:
                    alone = _measure_mosaic([gfp[i]], [rfp[i]], [masks[i]], families, timings)
                    values[i] = [alone[n][0] for n in names]
                except Exception:  # noqa: BLE001 - counted as FAILED and reported by the embedder
                    status[i] = FAILED
    return names, values, status


_NAMES: dict[bool, list[str]] = {}


def feature_names() -> list[str]:
    """The names of the feature vector, from measuring a synthetic disk-shaped cell once per process."""
    if _with_costes not in _NAMES:
        yy, xx = np.mgrid[:CROP, :CROP] - CROP / 2
        disk = (np.hypot(yy, xx) < 20).astype(np.float64)
        rng = np.random.default_rng(0)
        crop = np.stack([disk * rng.random((CROP, CROP)), disk + 0.1 * rng.random((CROP, CROP))])
        mask = cell_mask(rescale_unit(crop[1]))
        _NAMES[_with_costes] = list(
            _measure_mosaic([rescale_unit(crop[0])], [rescale_unit(crop[1])], [mask], family_functions(), None)
        )
    return _NAMES[_with_costes]
