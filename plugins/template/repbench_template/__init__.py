"""The template embedder: simple image statistics of each protein's test-split cells, averaged.

Real but trivial (no training): per cell, the mean GFP intensity in 8 rings around the crop centre (a
radial profile: nuclear, cytoplasmic and peripheral proteins differ), 5 GFP intensity quantiles and the
GFP-RFP pixel correlation; a protein's vector is the mean over its cells (14 numbers). Replace
``cell_features`` (or all of ``embed``) with your own model.

Crops: ``cells.read(ids)`` gives standardised crops (each channel of each crop to mean 0, sd 1: what the
features below assume); ``cells.read_raw(ids)`` gives the stored intensities, NOT standardised. Options:
declare them in ``options`` (name, type, default, help); the core checks ``--option KEY=VALUE`` against
the declaration and hands ``embed`` typed values in ``request.options`` (docs/plugins.md). Progress: call
``request.progress(stage, done, total)`` when it is not None (docs/plugins.md).
"""

from __future__ import annotations

import numpy as np

import repbench
from repbench.embedders import Embedding, EmbedRequest, Option
from repbench.progress import Counter

RINGS = 8
OPTIONS = (Option("batch_size", int, 256, "cells read and measured at a time", positive=True),)


def cell_features(crops: np.ndarray) -> np.ndarray:
    """(n, 2, 64, 64) standardised crops -> (n, 14) features."""
    gfp, rfp = crops[:, 0], crops[:, 1]
    size = gfp.shape[-1]
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    ring = np.minimum((np.hypot(yy, xx) / (size / 2) * RINGS).astype(int), RINGS - 1)  # (64, 64) ring index
    radial = np.stack([gfp[:, ring == r].mean(axis=1) for r in range(RINGS)], axis=1)
    quantiles = np.quantile(gfp.reshape(len(gfp), -1), [0.1, 0.25, 0.5, 0.75, 0.9], axis=1).T
    correlation = (gfp * rfp).mean(axis=(1, 2))[:, None]  # both channels are standardised per crop
    return np.concatenate([radial, quantiles, correlation], axis=1).astype(np.float32)


class TemplateEmbedder:
    name = "template"
    labels = ()  # the labels your training uses: "localization", "protein-identity"; () for none
    description = "Mean radial GFP profile and intensity statistics of each protein's cells (no training)"
    version = "0.1.0"
    requires_cells = True
    options = OPTIONS

    def embed(self, request: EmbedRequest) -> Embedding:
        index = request.cells.index
        test = np.flatnonzero(index["split"].to_numpy() == "test")  # cell ids are row positions
        proteins, protein_of_cell = np.unique(index["protein"].to_numpy()[test], return_inverse=True)
        sums, counts = np.zeros((len(proteins), 14)), np.bincount(protein_of_cell, minlength=len(proteins))
        batch_size = request.options.get("batch_size", 256)  # typed by the core
        step = Counter(request.progress, "template: cells", len(test))
        for start in range(0, len(test), batch_size):
            batch = slice(start, start + batch_size)
            np.add.at(sums, protein_of_cell[batch], cell_features(request.cells.read(test[batch])))
            step(len(test[batch]))
        vectors = (sums / counts[:, None]).astype(np.float32)
        return Embedding(list(proteins), vectors, params={"features": "radial8+quantiles5+corr", "rings": RINGS})


@repbench.hookimpl
def register_embedders(register):
    register(TemplateEmbedder())
