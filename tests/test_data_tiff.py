"""The TIFF-layout loader on real crops (tests/data/yeast_toy) and on broken copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from repbench.data import CROP_SHAPE, CellSet, open_cells
from repbench.data.labels import CLASSES
from repbench.data.tiff_layout import TiffCellSet, natural_key
from repbench.errors import RepbenchError

TOY = Path(__file__).parent / "data" / "yeast_toy"
PROTEINS = ["AAC1", "AAC3", "AAH1", "AAP1", "AAR2"]


@pytest.fixture()
def toy_copy(tmp_path) -> Path:
    root = tmp_path / "toy"
    shutil.copytree(TOY, root)
    return root


def test_reads_real_crops_with_proteins_and_shape():
    cells = open_cells(str(TOY))
    assert isinstance(cells, TiffCellSet) and isinstance(cells, CellSet)
    assert cells.dataset == "real"
    assert len(cells) == 60
    assert list(cells.index["protein"].cat.categories) == PROTEINS
    assert cells.index["protein"].value_counts().to_dict() == {p: 12 for p in PROTEINS}
    crops = cells.read(np.arange(len(cells)))
    assert crops.shape == (60, *CROP_SHAPE) and crops.dtype == np.float32
    # standardised per crop and channel
    np.testing.assert_allclose(crops.mean(axis=(2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(crops.std(axis=(2, 3)), 1, atol=1e-3)


def test_channels_pair_gfp_and_rfp_of_the_same_cell():
    cells = TiffCellSet(TOY)
    for cell_id in (0, 13, 59):
        gfp_path, rfp_path = cells.cell_paths(cell_id)
        assert gfp_path.name.endswith("_gfp.tif") and rfp_path.name == gfp_path.name[: -len("_gfp.tif")] + "_rfp.tif"
        raw = cells.read_raw([cell_id])[0]
        np.testing.assert_array_equal(raw[0], tifffile.imread(gfp_path))
        np.testing.assert_array_equal(raw[1], tifffile.imread(rfp_path))
        assert cells.index["protein"].iloc[cell_id] == gfp_path.parent.name


def test_cells_are_in_natural_order_and_read_in_requested_order():
    cells = TiffCellSet(TOY)
    names = [cells.cell_paths(i)[0].name for i in range(12)]
    assert names == sorted(names, key=natural_key)
    assert names[:2] == ["AAC1_1_rfp_2_gfp.tif", "AAC1_1_rfp_3_gfp.tif"]  # 2 before 10
    ids = np.array([40, 3, 17])
    np.testing.assert_array_equal(cells.read(ids)[1], cells.read([3])[0])


def test_default_labels_from_huh_match_gene_names():
    cells = TiffCellSet(TOY)
    label_of = cells.index.groupby("protein", observed=True)["label"].first().to_dict()
    # AAC1/AAC3: mitochondrion; AAH1/AAR2: nucleus + cytoplasm; AAP1 is written AAP1' in the 2003 table
    assert {p: CLASSES[k] for p, k in label_of.items()} == {
        "AAC1": "MITOCHONDRIA",
        "AAC3": "MITOCHONDRIA",
        "AAH1": "NUCLEI",
        "AAP1": "NUCLEI",
        "AAR2": "NUCLEI",
    }


def test_gfp_without_rfp_names_the_file(toy_copy):
    (toy_copy / "AAC3" / "AAC3_1_rfp_9_rfp.tif").unlink()
    with pytest.raises(RepbenchError) as error:
        open_cells(str(toy_copy))
    assert error.value.code == "data-missing-rfp"
    assert error.value.path.endswith("AAC3_1_rfp_9_gfp.tif")


def test_rfp_without_gfp_names_the_file(toy_copy):
    (toy_copy / "AAH1" / "AAH1_1_rfp_4_gfp.tif").unlink()
    with pytest.raises(RepbenchError) as error:
        open_cells(str(toy_copy))
    assert error.value.code == "data-missing-gfp"
    assert "AAH1_1_rfp_4_rfp.tif" in error.value.render()


def test_unreadable_tiff_names_the_file(toy_copy):
    broken = toy_copy / "AAP1" / "AAP1_1_rfp_3_gfp.tif"
    broken.write_bytes(b"this is not a TIFF")
    cells = open_cells(str(toy_copy))
    cell_id = [cells.cell_paths(i)[0] for i in range(len(cells))].index(broken)
    cells.read([0])  # other cells still read
    with pytest.raises(RepbenchError) as error:
        cells.read([cell_id])
    assert error.value.code == "data-unreadable-tiff" and error.value.path == str(broken)


def test_wrong_shape_names_the_file(toy_copy):
    bad = toy_copy / "AAR2" / "AAR2_1_rfp_5_rfp.tif"
    tifffile.imwrite(bad, np.zeros((32, 64), dtype=np.float32))
    cells = open_cells(str(toy_copy))
    cell_id = [cells.cell_paths(i)[1] for i in range(len(cells))].index(bad)
    with pytest.raises(RepbenchError) as error:
        cells.read([cell_id])
    assert error.value.code == "data-wrong-shape" and error.value.path == str(bad)
    assert "(32, 64)" in error.value.message


def test_empty_protein_folder_is_an_error(toy_copy):
    (toy_copy / "EMPTY1").mkdir()
    with pytest.raises(RepbenchError) as error:
        open_cells(str(toy_copy))
    assert error.value.code == "data-empty-folder" and error.value.path.endswith("EMPTY1")


def test_not_a_data_folder(tmp_path):
    with pytest.raises(RepbenchError) as error:
        open_cells(str(tmp_path / "missing"))
    assert error.value.code == "data-not-found"
    (tmp_path / "x").mkdir()
    with pytest.raises(RepbenchError) as error:
        open_cells(str(tmp_path))
    assert error.value.code == "data-unknown-format"


def test_iter_batches_covers_ids_in_order():
    cells = TiffCellSet(TOY)
    ids = np.array([5, 1, 30, 2, 59])
    batches = list(cells.iter_batches(ids, batch_size=2))
    assert [len(b) for b, _ in batches] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([b for b, _ in batches]), ids)
    np.testing.assert_array_equal(np.concatenate([c for _, c in batches]), cells.read(ids))
    with pytest.raises(RepbenchError) as error:
        cells.read([60])
    assert error.value.code == "data-bad-cell-ids"
