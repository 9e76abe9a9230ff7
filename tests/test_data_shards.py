"""The shard format: TIFF layout -> shards gives identical crops; atomic, streaming, checked on open."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repbench.data import open_cells, shards
from repbench.data.shards import ShardCellSet
from repbench.data.tiff_layout import TiffCellSet
from repbench.errors import RepbenchError

TOY = Path(__file__).parent / "data" / "yeast_toy"


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shards") / "toy"
    return shards.convert(TOY, out, cells_per_shard=7)  # 60 cells -> 9 shards, the last one partial


def test_convert_gives_identical_crops_index_and_labels(converted):
    tiff, shard = TiffCellSet(TOY), open_cells(str(converted))
    assert isinstance(shard, ShardCellSet) and shard.dataset == "real"
    pd.testing.assert_frame_equal(shard.index, tiff.index)
    assert shard.classes == tiff.classes
    ids = np.array([59, 0, 6, 7, 33, 8, 14])  # across shard borders, unsorted
    np.testing.assert_array_equal(shard.read_raw(ids), tiff.read_raw(ids))
    np.testing.assert_array_equal(shard.read(ids), tiff.read(ids))


def test_layout_on_disk(converted):
    header = json.loads((converted / "header.json").read_text())
    assert header["format"] == "repbench-shards" and header["format_version"] == 1
    assert header["cells"] == 60 and header["shards"] == 9 and header["dataset"] == "real"
    assert sorted(p.name for p in (converted / "shards").iterdir()) == [f"{i:05d}.npy" for i in range(9)]
    assert np.load(converted / "shards" / "00008.npy", mmap_mode="r").shape == (4, 2, 64, 64)
    index = pd.read_parquet(converted / "index.parquet")
    assert list(index.columns) == ["protein", "split", "label", "shard", "offset", "cell"]
    assert index["cell"].iloc[0] == "AAC1_1_rfp_2"
    assert not converted.with_name(converted.name + ".tmp").exists()


def test_read_touches_only_requested_shards(converted, monkeypatch):
    opened = []
    real_load = np.load

    def spy(path, *args, **kwargs):
        opened.append((Path(path).name, kwargs.get("mmap_mode")))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    cells = ShardCellSet(converted)
    cells.read([15, 16])  # both in shard 2
    assert opened == [("00002.npy", "r")]


def test_float16_storage_and_seed_redraws_splits(tmp_path):
    out = shards.convert(TOY, tmp_path / "f16", dtype="float16")
    cells = ShardCellSet(out)
    assert np.load(out / "shards" / "00000.npy", mmap_mode="r").dtype == np.float16
    tiff = TiffCellSet(TOY)
    np.testing.assert_allclose(cells.read_raw(np.arange(60)), tiff.read_raw(np.arange(60)), rtol=1e-3, atol=1e-4)
    other = ShardCellSet(out, seed=1)
    assert not np.array_equal(other.index["split"], cells.index["split"])
    pd.testing.assert_series_equal(other.index["split"], TiffCellSet(TOY, seed=1).index["split"])


def test_failed_convert_leaves_nothing(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(TOY, src)
    (src / "AAR2" / "AAR2_1_rfp_7_gfp.tif").write_bytes(b"garbage")  # found only when reading, late
    with pytest.raises(RepbenchError) as error:
        shards.convert(src, tmp_path / "out", cells_per_shard=8)
    assert error.value.code == "data-unreadable-tiff" and error.value.path.endswith("AAR2_1_rfp_7_gfp.tif")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.tmp").exists()


def test_existing_output_is_refused(converted):
    with pytest.raises(RepbenchError) as error:
        shards.convert(TOY, converted)
    assert error.value.code == "data-out-exists"


def test_damaged_folders_are_reported(converted, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(converted, copy)
    (copy / "shards" / "00004.npy").unlink()
    with pytest.raises(RepbenchError) as error:
        ShardCellSet(copy)
    assert error.value.code == "shards-missing-file" and "00004.npy" in error.value.render()
    (copy / "header.json").write_text("{not json")
    with pytest.raises(RepbenchError) as error:
        ShardCellSet(copy)
    assert error.value.code == "shards-bad-header"


def test_labels_table_overrides(converted, tmp_path):
    table = tmp_path / "labels.tsv"
    table.write_text("protein\tclass\naac1\tvacuole\nAAR2\tER\n")
    cells = ShardCellSet(converted, labels=table)
    by_protein = cells.index.groupby("protein", observed=True)["label"].first()
    assert cells.classes[by_protein["AAC1"]] == "VACUOLE" and cells.classes[by_protein["AAR2"]] == "ER"
    assert by_protein["AAH1"] == -1
