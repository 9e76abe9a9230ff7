"""The CellProfiler embedders (plugins/cellprofiler): masks, cp-measure features, cleaning, z-score / PCA."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from repbench_cellprofiler import CellProfilerEmbedder, CellProfilerPCAEmbedder, clean_features
from repbench_cellprofiler.features import EMPTY_MASK, OK, measure_crops
from repbench_cellprofiler.parallel import DEFAULT_CHUNK, measure_cells
from repbench_cellprofiler.segment import cell_mask

from repbench.data import open_cells
from repbench.embedders import EmbedRequest
from repbench.errors import RepbenchError

TOY = Path(__file__).resolve().parent / "data" / "yeast_toy"
# CellProfiler's normalised moments of order (0,0), (0,1), (1,0) are undefined (0/0) for every object
UNDEFINED_BY_CONSTRUCTION = {
    "sizeshape:NormalizedMoment_0_0",
    "sizeshape:NormalizedMoment_0_1",
    "sizeshape:NormalizedMoment_1_0",
}


class ArrayCells:
    """A small in-memory CellSet: crops (n, 2, 64, 64) with given proteins and splits."""

    name, dataset, classes = "test", "real", []

    def __init__(self, crops, proteins, splits):
        self.crops = np.asarray(crops, dtype=np.float32)
        self.index = pd.DataFrame({"protein": proteins, "split": splits, "label": -1})

    def __len__(self):
        return len(self.crops)

    def read(self, cell_ids):
        return self.crops[np.asarray(cell_ids)]


@pytest.fixture(scope="module")
def toy():
    return open_cells(TOY)


@pytest.fixture(scope="module")
def toy_features(toy):
    return measure_crops(toy.read(np.arange(len(toy))))


def test_features_are_finite_for_every_committed_real_crop(toy, toy_features):
    names, values, status = toy_features
    assert len(toy) == 60 and values.shape == (60, len(names)) and values.dtype == np.float32
    assert len(set(names)) == len(names) > 150
    assert (status == OK).all()
    nonfinite = {names[j] for j in np.flatnonzero(~np.isfinite(values).all(axis=0))}
    assert nonfinite == UNDEFINED_BY_CONSTRUCTION
    families = {n.split(":")[0] for n in names}
    assert {
        "intensity",
        "sizeshape",
        "zernike",
        "texture",
        "granularity",
        "radial_distribution",
        "pearson",
        "manders_fold",
        "rwc",
    } <= families
    # nothing that says where the cell sits in the batch mosaic
    assert not [n for n in names if "Location_" in n or "Center_" in n or "SpatialMoment" in n]


def assert_same_cell(a: np.ndarray, b: np.ndarray, names: list[str]) -> None:
    """Equal features of one cell measured at two places of a mosaic. Zernike moments only up to one pixel:
    a pixel exactly on the cell's enclosing circle falls in or out of the unit disk by float round-off of
    its absolute coordinates (cp-measure's ``r**2 > 1`` cutoff), worth ~1/area (~1e-3) of a moment."""
    zernike = np.array(["Zernike" in n for n in names])
    np.testing.assert_allclose(a[~zernike], b[~zernike], rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(a[zernike], b[zernike], atol=3e-3, equal_nan=True)


def test_a_cell_measures_the_same_alone_and_in_any_batch(toy, toy_features):
    names, together, _ = toy_features
    crops = toy.read(np.arange(len(toy)))
    _, alone, _ = measure_crops(crops[7:8])
    _, reordered, _ = measure_crops(crops[[20, 7, 3]])
    assert_same_cell(alone[0], together[7], names)
    assert_same_cell(reordered[1], together[7], names)
    _, again, _ = measure_crops(crops[[20, 7, 3]])
    np.testing.assert_array_equal(again, reordered)  # deterministic


def test_parallel_measurement_equals_serial_and_keeps_cell_order(toy, toy_features):
    ids = np.arange(len(toy))[::-1]  # any order in, same order out
    serial = measure_cells(toy, ids, workers=1, chunk=8)
    parallel = measure_cells(toy, ids, workers=2, chunk=8)
    np.testing.assert_array_equal(parallel.values, serial.values)
    np.testing.assert_array_equal(parallel.cell_ids, ids)
    for row, cell in enumerate(ids[:10]):
        assert_same_cell(serial.values[row], toy_features[1][cell], toy_features[0])


def test_mask_is_the_centre_cell_with_holes_filled():
    yy, xx = np.mgrid[:64, :64]
    centre_cell = (np.hypot(yy - 32, xx - 32) < 14) & (np.hypot(yy - 32, xx - 32) > 4)  # ring: dark vacuole
    big_neighbour = np.hypot(yy - 10, xx - 52) < 12
    rfp = 0.05 + 0.9 * (centre_cell | big_neighbour)
    mask = cell_mask(rfp)
    assert mask[32, 32] and mask[32, 40]  # hole filled, centre component kept
    assert not mask[10, 52]  # the neighbour is not part of it
    assert mask.sum() == pytest.approx(np.pi * 14**2, rel=0.1)
    assert not cell_mask(np.full((64, 64), 0.3)).any()  # flat marker: no cell
    speck = rfp.copy()
    speck[32, 32] = 0.95  # a bright noise pixel alone in the dark vacuole, right at the centre
    np.testing.assert_array_equal(cell_mask(speck), mask)


def _toy_with_blank_cell(toy):
    crops = toy.read(np.arange(len(toy))).copy()
    index = toy.index
    blank = int(np.flatnonzero(index["split"].to_numpy() == "test")[0])
    crops[blank, 1] = 0.0  # a flat RFP marker: Otsu finds no cell
    return ArrayCells(crops, index["protein"].astype(str).to_numpy(), index["split"].astype(str).to_numpy()), blank


def test_an_empty_mask_is_counted_and_reported_never_silently_dropped(toy, tmp_path):
    cells, blank = _toy_with_blank_cell(toy)
    _, values, status = measure_crops(cells.read([blank, blank + 1]))
    assert status[0] == EMPTY_MASK and np.isnan(values[0]).all() and status[1] == OK
    with pytest.warns(RuntimeWarning, match="1 empty mask"):
        embedding = CellProfilerEmbedder().embed(EmbedRequest(cells=cells, out_dir=tmp_path, options={"workers": "1"}))
    assert embedding.params["empty_masks"] == 1
    assert embedding.params["cells_measured"] == 5 and embedding.params["cells_used"] == 4
    # the blank cell was its protein's only test cell: that protein has no vector, and the count says so
    assert embedding.params["proteins_without_cells"] == 1
    assert cells.index["protein"][blank] not in embedding.proteins and len(embedding.proteins) == 4


def test_a_cell_whose_measurement_raises_is_counted_and_spares_its_batch(toy, toy_features, monkeypatch, tmp_path):
    from repbench_cellprofiler import features

    crops = toy.read(np.arange(len(toy)))
    areas = [int(cell_mask(features.rescale_unit(c[1])).sum()) for c in crops]
    bad = int(np.flatnonzero(toy.index["split"].to_numpy() == "test")[1])
    assert areas.count(areas[bad]) == 1
    real_families = features.family_functions

    def breaking_on_the_bad_cell():
        families = real_families()
        intensity, kwargs, how = families["intensity"]

        def broken(labels, pixels, **kw):
            if areas[bad] in np.bincount(labels.ravel())[1:]:
                raise ValueError("boom")
            return intensity(labels, pixels, **kw)

        families["intensity"] = (broken, kwargs, how)
        return families

    monkeypatch.setattr(features, "family_functions", breaking_on_the_bad_cell)
    _, values, status = measure_crops(crops[bad - 2 : bad + 2])
    assert status.tolist() == [OK, OK, features.FAILED, OK] and np.isnan(values[2]).all()
    np.testing.assert_allclose(
        values[[0, 1, 3]], toy_features[1][[bad - 2, bad - 1, bad + 1]], rtol=1e-5, atol=3e-3, equal_nan=True
    )
    with pytest.warns(RuntimeWarning, match="1 failed"):
        embedding = CellProfilerEmbedder().embed(EmbedRequest(cells=toy, out_dir=tmp_path, options={"workers": "1"}))
    assert embedding.params["failed_cells"] == 1 and embedding.params["cells_used"] == 4


def test_protein_vectors_are_means_of_z_scored_test_cells(toy, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean run warns about nothing
        embedding = CellProfilerEmbedder().embed(EmbedRequest(cells=toy, out_dir=tmp_path, options={"workers": "1"}))
    params = embedding.params
    assert sorted(embedding.proteins) == sorted(toy.index["protein"].astype(str).unique())
    assert embedding.vectors.shape == (5, params["features_used"]) and np.isfinite(embedding.vectors).all()
    assert params["dropped_nonfinite_features"] == len(UNDEFINED_BY_CONSTRUCTION)
    assert (
        params["features_used"]
        == params["features_measured"] - params["dropped_nonfinite_features"] - params["dropped_constant_features"]
    )
    # one test cell per protein here, so the protein vectors are the z-scored cells themselves
    np.testing.assert_allclose(embedding.vectors.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(embedding.vectors.std(axis=0), 1, atol=1e-4)


def test_a_protein_vector_is_the_mean_of_its_several_z_scored_test_cells(toy, tmp_path):
    """Three test cells per protein (the toy's crops re-split 8 train / 1 val / 3 test): each protein's vector is
    the plain mean of its cells' z-scored features, not their sum and not one of them."""
    index = toy.index
    rank = index.groupby("protein", observed=True).cumcount().to_numpy()
    splits = np.where(rank < 8, "train", np.where(rank == 8, "val", "test"))
    cells = ArrayCells(toy.read(np.arange(len(toy))), index["protein"].astype(str).to_numpy(), splits)
    embedding = CellProfilerEmbedder().embed(EmbedRequest(cells=cells, out_dir=tmp_path, options={"workers": "1"}))

    test_ids = np.flatnonzero(splits == "test")
    measured = measure_cells(cells, test_ids, workers=1, chunk=DEFAULT_CHUNK)  # the embedder's own measurement
    kept_cells, kept_features, _ = clean_features(measured.values, measured.status == 0)
    assert kept_cells.all() and len(test_ids) == 15
    values = measured.values[:, kept_features].astype(np.float64)
    scored = (values - values.mean(axis=0)) / values.std(axis=0)  # z-scored over the test cells
    proteins = cells.index["protein"].to_numpy()[test_ids]
    assert not np.allclose(scored[0], scored[1])  # a protein's cells differ
    assert sorted(embedding.proteins) == sorted(set(proteins))
    for row, protein in enumerate(embedding.proteins):
        mine = [scored[i] for i in range(len(test_ids)) if proteins[i] == protein]
        assert len(mine) == 3
        np.testing.assert_allclose(embedding.vectors[row], sum(mine) / 3, rtol=1e-5, atol=1e-6)


def test_pca_variant_keeps_99_percent_of_the_variance(toy, tmp_path):
    embedding = CellProfilerPCAEmbedder().embed(EmbedRequest(cells=toy, out_dir=tmp_path, options={"workers": "1"}))
    params = embedding.params
    assert params["cells_measured"] == len(toy)  # fitted on all cells, not only the test split
    assert params["pca_explained_variance"] >= 0.99
    assert embedding.vectors.shape == (5, params["pca_components"]) and params["pca_components"] < 60


def test_cleaning_drops_undefined_features_and_counts_cells_with_a_rare_failure():
    values = np.ones((100, 4)) * np.arange(100)[:, None]
    values[:, 1] = np.nan  # undefined for every cell: the feature goes
    values[3, 2] = np.inf  # one cell's failure: the cell goes, the feature stays
    values[:, 3] = 7.0  # constant: the feature goes
    usable = np.ones(100, dtype=bool)
    usable[0] = False
    cells, features, counts = clean_features(values, usable)
    assert features.tolist() == [True, False, True, False]
    assert not cells[0] and not cells[3] and cells.sum() == 98
    assert counts == {"dropped_nonfinite_features": 1, "dropped_constant_features": 1, "nonfinite_cells": 1}


@pytest.mark.parametrize("options", [{"workers": "0"}, {"chunk": "x"}, {"costes": "maybe"}])
def test_bad_options_are_reported(toy, tmp_path, options):
    with pytest.raises(RepbenchError) as raised:
        CellProfilerEmbedder().embed(EmbedRequest(cells=toy, out_dir=tmp_path, options=options))
    assert raised.value.code == "bad-option"


def test_the_embedders_are_found_through_the_entry_point_like_any_third_party_plugin(monkeypatch):
    from repbench import plugins

    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "cellprofiler")
    plugins.reset()
    try:
        found = plugins.embedders()
        assert set(found) == {"cellprofiler", "cellprofiler-pca"}
        assert {info.package for info in found.values()} == {"repbench-cellprofiler"}
    finally:
        plugins.reset()
