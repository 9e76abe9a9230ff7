"""The synthetic proteome: deterministic bytes, proteins sharing groups, labels, caching, shared fine parameters."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import repbench.standards as S
from repbench.data import CROP_SHAPE, open_cells, synthetic
from repbench.data.labels import CLASSES, huh_classes
from repbench.data.synthetic import proteome
from repbench.data.synthetic.render import PATTERNS, render


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPBENCH_CACHE", str(tmp_path / "cache"))


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = synthetic.generate(tmp_path / "a", n_proteins=12, cells_per_protein=5, seed=3)
    b = synthetic.generate(tmp_path / "b", n_proteins=12, cells_per_protein=5, seed=3)
    c = synthetic.generate(tmp_path / "c", n_proteins=12, cells_per_protein=5, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a)["shards/00000.npy"] != _digest(c)["shards/00000.npy"]


def test_demo_set_is_a_cached_synthetic_cellset(tmp_path, monkeypatch):
    cells = open_cells("demo", n_proteins=16, cells_per_protein=6)
    assert cells.name == "demo" and cells.dataset == "synthetic" and cells.classes == CLASSES
    assert len(cells) == 96 and cells.index["protein"].nunique() == 16
    crops = cells.read(np.arange(len(cells)))
    assert crops.shape == (96, *CROP_SHAPE) and crops.dtype == np.float32 and np.isfinite(crops).all()
    cached = list((tmp_path / "cache" / "synthetic").iterdir())
    assert len(cached) == 1 and cached[0].name.startswith(f"v{synthetic.GENERATOR_VERSION}-p16-c6-s0-")

    def no_generation(*args, **kwargs):
        raise AssertionError("the cached set was generated again")

    monkeypatch.setattr(synthetic, "generate", no_generation)
    again = open_cells("demo:proteins=16,cells=6")  # read back from the cache
    np.testing.assert_array_equal(again.read([0, 95]), crops[[0, 95]])


def test_proteins_are_orfs_with_huh_labels_and_splits():
    cells = open_cells("demo", n_proteins=20, cells_per_protein=10, seed=1)
    truth = pd.read_csv(cells.path / synthetic.PROTEINS_FILE, sep="\t", keep_default_na=False)
    proteins = list(cells.index["protein"].cat.categories)
    assert proteins == sorted(truth["orf"]) and all(p.startswith("Y") for p in proteins)
    classes = huh_classes()
    for orf, label in cells.index.groupby("protein", observed=True)["label"].first().items():
        assert (CLASSES[label] if label >= 0 else None) == classes.get(orf)
    per_protein = cells.index.groupby(["protein", "split"], observed=False).size().unstack()
    assert (per_protein[["train", "val", "test"]].to_numpy() == [8, 1, 1]).all()


def test_chosen_proteins_share_groups_in_every_tier():
    st = S.load()
    chosen = set(proteome.choose_orfs(60, seed=0, standards=st))
    assert len(chosen) == 60
    for tier in ("go_cc", "go_bp", "kegg", "complex"):
        shared = [g for g, members in st.tiers[tier].groups.items() if len(chosen & set(members)) >= 2]
        assert shared, f"no {tier} group with two chosen proteins"
    assert proteome.choose_orfs(60, seed=0, standards=st) == sorted(chosen)


def test_fine_parameters_are_shared_by_group_members():
    # Two proteins with the same groups get the same group part; unrelated ones differ.
    same_a = proteome.fine_parameters("YAAAA1", ["complex:X", "kegg:Y"])
    same_b = proteome.fine_parameters("YBBBB2", ["complex:X", "kegg:Y"])
    other = proteome.fine_parameters("YBBBB2", ["complex:Z"])
    own = 1 - proteome.GROUP_SHARE
    assert np.abs(same_a - same_b).max() <= own + 1e-9
    assert np.all((same_a >= 0) & (same_a <= 1))
    assert not np.allclose(other, same_b)


@pytest.mark.parametrize("flag", sorted(PATTERNS))
def test_every_localization_draws_a_cell(flag):
    rng = np.random.default_rng(0)
    crops = render(rng, 3, (flag,), np.full(4, 0.5), 5000.0)
    assert crops.shape == (3, 2, 64, 64) and np.isfinite(crops).all()
    gfp, rfp = crops[:, 0], crops[:, 1]
    assert (gfp.max(axis=(1, 2)) > gfp.mean(axis=(1, 2)) + 20).all()  # a visible pattern
    # the RFP body fills the middle of the crop, the corners are background
    assert (rfp[:, 28:36, 28:36].mean(axis=(1, 2)) > rfp[:, :4, :4].mean(axis=(1, 2)) + 30).all()


def test_compartments_land_where_they_should():
    fine = np.full(4, 0.5)
    nucleus = render(np.random.default_rng(1), 8, ("nucleus",), fine, 1e5)[:, 0]
    periphery = render(np.random.default_rng(1), 8, ("cell periphery",), fine, 1e5)[:, 0]
    # same geometry (same rng): the periphery rim lies outside the nucleus, so their bright pixels differ
    bright_n = nucleus > np.percentile(nucleus, 97, axis=(1, 2), keepdims=True)
    bright_p = periphery > np.percentile(periphery, 97, axis=(1, 2), keepdims=True)
    assert (bright_n & bright_p).sum() < 0.05 * bright_n.sum()
    # a nucleus is compact, the periphery spread out: compare the spread of bright pixels
    ys, xs = np.nonzero(bright_n[0])
    yp, xp = np.nonzero(bright_p[0])
    assert np.hypot(ys - ys.mean(), xs - xs.mean()).mean() < np.hypot(yp - yp.mean(), xp - xp.mean()).mean()
