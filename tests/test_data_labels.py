"""Huh 2003 -> DeepLoc class mapping, user label tables, and the seeded 80/10/10 split."""

from __future__ import annotations

import numpy as np
import pytest

from repbench.data import labels as L
from repbench.data.preprocess import assign_splits, split_sizes, standardise
from repbench.errors import RepbenchError


def test_classes_are_deeplocs_17():
    shipped = L.resource_path("deeploc_classes_chong2015.txt").read_text().split("\n")
    assert L.CLASSES == [c for c in shipped if c and c not in ("DEAD", "GHOST")]
    assert len(L.CLASSES) == 17


@pytest.mark.parametrize(
    "name, expected",
    [
        ("YAL001C", "NUCLEI"),  # TFC3: nucleus + cytoplasm -> the more specific nucleus
        ("tfc3", "NUCLEI"),  # gene name, any case
        ("YAL002W", "ENDOSOME"),  # VPS8
        ("YBR085W", "MITOCHONDRIA"),  # AAC3
        ("YAL007C", "ER"),  # ERP2
    ],
)
def test_huh_spot_checks(name, expected):
    assert L.huh_classes()[name.upper()] == expected


def test_priority_rule():
    assert L.class_of_flags(["cytoplasm", "nucleus"]) == "NUCLEI"
    assert L.class_of_flags(["nucleus", "spindle pole"]) == "SPINDLEPOLE"
    assert L.class_of_flags(["late Golgi", "early Golgi"]) == "GOLGI"
    assert L.class_of_flags(["cytoplasm", "punctate composite"]) == "CYTOPLASM"
    assert L.class_of_flags(["ambiguous"]) is None
    assert L.class_of_flags(["lipid particle", "punctate composite"]) is None


def test_every_huh_flag_is_handled():
    assert set(L.HUH_FLAGS) == set(L.HUH_TO_CLASS) | {"ambiguous", "punctate composite", "lipid particle"}
    assert set(L.HUH_TO_CLASS.values()) == set(L.CLASSES)


def test_default_labels_resolve_renamed_genes():
    # The 2003 table spells AAP1 as "AAP1'"; the folder name AAP1 still gets its class.
    assert L.default_labels(["AAP1", "NOT_A_GENE"]) == {"AAP1": "NUCLEI"}


def test_user_table_csv_and_custom_classes(tmp_path):
    table = tmp_path / "labels.csv"
    table.write_text("protein,class\nAAC1,bright\nAAC3,dim\nAAH1,\n")
    classes, codes = L.label_codes(["AAC1", "AAC3", "AAH1", "AAR2"], table)
    assert classes == ["bright", "dim"] and codes == {"AAC1": 0, "AAC3": 1}


def test_user_table_errors(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("gene\tcompartment\nAAC1\tER\n")
    with pytest.raises(RepbenchError) as error:
        L.read_labels_table(bad)
    assert error.value.code == "labels-bad-table"
    twice = tmp_path / "twice.tsv"
    twice.write_text("protein\tclass\nAAC1\tER\naac1\tVACUOLE\n")
    with pytest.raises(RepbenchError) as error:
        L.read_labels_table(twice)
    assert error.value.code == "labels-conflict" and "AAC1" in error.value.render()
    with pytest.raises(RepbenchError) as error:
        L.read_labels_table(tmp_path / "none.tsv")
    assert error.value.code == "labels-not-found"


@pytest.mark.parametrize(
    "n, sizes",
    [
        (1, (1, 0, 0)),
        (2, (1, 0, 1)),
        (3, (1, 1, 1)),
        (12, (10, 1, 1)),
        (24, (20, 2, 2)),
        (25, (19, 3, 3)),
        (100, (80, 10, 10)),
    ],
)
def test_split_sizes(n, sizes):
    assert split_sizes(n) == sizes


def test_splits_are_seeded_per_protein():
    codes = np.repeat([0, 1, 2], [24, 40, 3])
    names = ["P0", "P1", "P2"]
    a = assign_splits(codes, names, seed=0)
    assert np.array_equal(a, assign_splits(codes, names, seed=0))
    assert not np.array_equal(a, assign_splits(codes, names, seed=1))
    for code, n in zip(range(3), (24, 40, 3)):
        assert tuple(np.bincount(a[codes == code], minlength=3)) == split_sizes(n)
    # a protein's split does not depend on the other proteins in the set
    alone = assign_splits(np.zeros(40, dtype=int), ["P1"], seed=0)
    assert np.array_equal(alone, a[codes == 1])


def test_standardise_guards_constant_channels():
    crops = np.zeros((2, 2, 64, 64), dtype=np.float16)
    crops[0, 0] = np.arange(64 * 64).reshape(64, 64)
    out = standardise(crops)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert abs(out[0, 0].mean()) < 1e-5 and abs(out[0, 0].std() - 1) < 1e-4
    assert not out[1].any()


def test_public_api_names():
    import repbench.data as D
    from repbench.data import shards, synthetic

    assert D.CLASSES is L.CLASSES and D.huh_classes is L.huh_classes
    assert D.ShardCellSet is shards.ShardCellSet and D.convert is shards.convert
    assert D.generate is synthetic.generate and callable(D.open_cells)
    with pytest.raises(AttributeError):
        _ = D.not_a_name
