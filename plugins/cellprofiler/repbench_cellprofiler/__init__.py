"""CellProfiler embedders: classical per-cell features (cp-measure), z-scored, averaged per protein.

``cellprofiler``      every feature of :mod:`.features`, z-scored over the test-split cells; a protein's
                      vector is the mean of its test-split cells (nothing is trained).
``cellprofiler-pca``  the same features of all cells (every split), z-scored over all of them, reduced by a
                      PCA that keeps 99% of their variance (fitted on all cells); a protein's vector is the mean
                      of its test-split cells' components.

Cleaning, in this order, with every count reported in ``Embedding.params``:
1. cells whose mask is empty (``empty_masks``) or whose measurement raised (``failed_cells``) are left out;
2. a feature that is NaN/inf for more than ``MAX_NONFINITE_SHARE`` of the measured cells is undefined by
   construction (CellProfiler's NormalizedMoment_0_0 always is) and dropped (``dropped_nonfinite_features``);
3. a cell still holding a non-finite value (a cell too small for the texture scale, ...) counts as a failed
   measurement (``nonfinite_cells``) and is left out, rather than costing every cell that feature;
4. features constant across the remaining cells are dropped (``dropped_constant_features``).
Options (``--option KEY=VALUE``): ``workers`` (processes, default os.cpu_count()), ``chunk`` (cells per
mosaic, default 16), ``costes`` (true: add the slow Costes coefficients).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

import repbench
from repbench.embedders import Embedding, EmbedRequest, Option, parse_options, protein_means
from repbench.errors import RepbenchError

from .features import CORE_FAMILIES, CORRELATION_FAMILIES, PER_CROP_FAMILIES
from .parallel import DEFAULT_CHUNK, measure_cells

__version__ = "0.1.0"
MAX_NONFINITE_SHARE = 0.05
PCA_VARIANCE = 0.99


#: ``--option KEY=VALUE``: checked and typed by the core (repbench.embedders.check_options)
OPTIONS = (
    Option("workers", int, None, "worker processes (default: one per CPU)", positive=True),
    Option("chunk", int, DEFAULT_CHUNK, "cells per mosaic", positive=True),
    Option("costes", bool, False, "add the slow Costes coefficients"),
)


def clean_features(values: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """Steps 2-4 of the module docstring.

    values (n, F) float, usable (n,) bool (measured cells) -> (kept cells (n,) bool, kept features (F,) bool,
    counts dict)."""
    measured = values[usable]
    nonfinite_share = (~np.isfinite(measured)).mean(axis=0) if len(measured) else np.ones(values.shape[1])
    features = nonfinite_share <= MAX_NONFINITE_SHARE
    cells = usable & np.isfinite(values[:, features]).all(axis=1)
    kept = values[cells][:, features].astype(np.float64)
    spread = kept.std(axis=0) if len(kept) else np.zeros(int(features.sum()))
    constant = ~(spread > 1e-12 * np.maximum(1.0, np.abs(kept.mean(axis=0) if len(kept) else 0.0)))
    dropped_constant = int(constant.sum())
    features[np.flatnonzero(features)[constant]] = False
    return (
        cells,
        features,
        {
            "dropped_nonfinite_features": int((nonfinite_share > MAX_NONFINITE_SHARE).sum()),
            "dropped_constant_features": dropped_constant,
            "nonfinite_cells": int((usable & ~cells).sum()),
        },
    )


def zscore(values: np.ndarray) -> np.ndarray:
    """(n, F) -> (n, F) float64, each column to mean 0 / sd 1 (columns are non-constant)."""
    values = values.astype(np.float64)
    return (values - values.mean(axis=0)) / values.std(axis=0)


class CellProfilerEmbedder:
    name = "cellprofiler"
    labels = ()  # hand-engineered features: no training labels
    description = (
        "CellProfiler features (cp-measure: intensity, size/shape + Zernike, texture, granularity, "
        "radial distribution, GFP-RFP correlation) z-scored and averaged per protein (no training)"
    )
    version = __version__
    requires_cells = True
    pca = False
    options = OPTIONS

    def embed(self, request: EmbedRequest) -> Embedding:
        options = parse_options(self.name, OPTIONS, request.options)
        workers = options.get("workers") or os.cpu_count() or 1
        chunk, costes = options.get("chunk", DEFAULT_CHUNK), options.get("costes", False)
        index = request.cells.index
        is_test = index["split"].to_numpy() == "test"
        # Without PCA only test cells matter; the PCA is fitted on all cells.
        cell_ids = np.arange(len(index)) if self.pca else np.flatnonzero(is_test)
        measured = measure_cells(
            request.cells,
            cell_ids,
            workers=workers,
            chunk=chunk,
            costes=costes,
            progress=request.progress,
            label=f"{self.name}: cells",
        )
        cells, features, counts = clean_features(measured.values, measured.status == 0)
        if not features.any() or not cells.any():
            raise RepbenchError(
                "cellprofiler-no-features",
                f"no usable cells or features: {len(cell_ids)} cells, "
                f"{measured.empty_masks} empty masks, {measured.failed} failed",
            )
        params = {
            "cells_measured": int(len(cell_ids)),
            "cells_used": int(cells.sum()),
            "empty_masks": measured.empty_masks,
            "failed_cells": measured.failed,
            **counts,
            "features_measured": len(measured.names),
            "features_used": int(features.sum()),
            "families": list(CORE_FAMILIES)
            + list(PER_CROP_FAMILIES)
            + list(CORRELATION_FAMILIES)
            + (["costes"] if costes else []),
            "workers": workers,
            "chunk": chunk,
            "cp_measure": _cp_measure_version(),
        }
        lost = measured.empty_masks + measured.failed + counts["nonfinite_cells"]
        if lost:
            warnings.warn(
                f"{self.name}: {lost} of {len(cell_ids)} cells left out ({measured.empty_masks} empty "
                f"masks, {measured.failed} failed measurements, {counts['nonfinite_cells']} with "
                "non-finite features)",
                RuntimeWarning,
                stacklevel=2,
            )

        vectors = zscore(measured.values[cells][:, features])
        if self.pca:
            from sklearn.decomposition import PCA

            pca = PCA(n_components=PCA_VARIANCE, svd_solver="full").fit(vectors)
            vectors = pca.transform(vectors)
            params.update(
                pca_components=int(pca.n_components_), pca_explained_variance=float(pca.explained_variance_ratio_.sum())
            )
        used_ids = measured.cell_ids[cells]
        test_rows = is_test[used_ids]
        proteins, vectors = protein_means(index["protein"].to_numpy()[used_ids][test_rows], vectors[test_rows])
        params["proteins_without_cells"] = int(index.loc[is_test, "protein"].nunique() - len(proteins))
        return Embedding(proteins, vectors, params)


class CellProfilerPCAEmbedder(CellProfilerEmbedder):
    name = "cellprofiler-pca"
    description = (
        "CellProfiler features of all cells, z-scored, PCA keeping 99% of the variance; mean of "
        "each protein's test-cell components"
    )
    pca = True


def _cp_measure_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cp-measure")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


@repbench.hookimpl
def register_embedders(register):
    register(CellProfilerEmbedder())
    register(CellProfilerPCAEmbedder())
