"""`repbench run-merge`: the paper protocol's grid as separate jobs, merged by the paper's rule."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from repbench import table
from repbench.cli.main import app
from repbench.embedders import EmbedRequest
from repbench.errors import RepbenchError, UsageError
from repbench.merge import merge_runs


def make_job(folder, standards, lr, seed, val_loss, data="demo"):
    """A finished run folder as `repbench run` leaves it, with a distinct table per job."""
    folder.mkdir(parents=True)
    proteins = list(standards.reference_proteome[:60])
    vectors = np.random.default_rng(int(lr * 1e6) + seed).normal(size=(len(proteins), 8)).astype(np.float32)
    params = {"protocol": "paper", "lr": lr, "seed": seed, "best_val_loss": val_loss, "best_epoch": 2}
    table.write_table(
        folder / "embeddings.parquet",
        proteins,
        vectors,
        {
            "embedder": "deeploc",
            "version": "0.1.0",
            "dataset": "synthetic",
            "data": data,
            "protocol": "paper",
            "seed": seed,
            "params": params,
        },
    )
    config = {
        "embedder": "deeploc",
        "embedder_version": "0.1.0",
        "data": data,
        "labels": None,
        "protocol": "paper",
        "seed": seed,
        "options": {"lr": f"{lr:g}", "seeds": "1"},
    }
    (folder / "run.json").write_text(json.dumps(config))
    (folder / "trajectory.json").write_text(json.dumps([{"epoch": 1, "logs": {"val_loss": val_loss}, "tiers": {}}]))
    (folder / "result.json").write_text("{}")
    return folder


def test_merge_follows_the_papers_rule_rate_on_the_first_seed_then_the_seed(tmp_path, standards):
    # rate 3e-4 wins on seed 0; among its seeds, seed 2 wins. (1e-4, seed 1) has the lowest loss of all but
    # its rate lost on seed 0, so the paper's rule never looks at it.
    losses = {(1e-3, 0): 1.0, (3e-4, 0): 0.5, (1e-4, 0): 0.8, (3e-4, 1): 0.6, (3e-4, 2): 0.4, (1e-4, 1): 0.1}
    folders = [
        make_job(tmp_path / "grid" / f"lr{lr:g}-s{seed}", standards, lr, seed, loss)
        for (lr, seed), loss in losses.items()
    ]
    result = merge_runs(folders, tmp_path / "merged")
    merged = tmp_path / "merged"
    assert json.loads((merged / "run.json").read_text())["chosen"] == str(tmp_path / "grid" / "lr0.0003-s2")
    read = table.read_table(merged / "embeddings.parquet", standards)
    chosen = table.read_table(tmp_path / "grid" / "lr0.0003-s2" / "embeddings.parquet", standards)
    np.testing.assert_array_equal(read.vectors, chosen.vectors)
    params = json.loads(pq.read_schema(merged / "embeddings.parquet").metadata[b"repbench"])["params"]
    assert params["lr_search_val_loss"] == {"0.001": 1.0, "0.0003": 0.5, "0.0001": 0.8}
    assert params["seed_val_loss"] == {"0": 0.5, "1": 0.6, "2": 0.4}
    assert result["trajectory"] == [{"epoch": 1, "logs": {"val_loss": 0.4}, "tiers": {}}]
    assert json.loads((merged / "result.json").read_text())["input"]["proteins"] == 60


def test_ties_keep_the_larger_rate_as_the_one_process_loop_does(tmp_path, standards):
    folders = [make_job(tmp_path / f"lr{lr:g}", standards, lr, 0, 0.5) for lr in (1e-4, 1e-3, 3e-4)]
    merge_runs(folders, tmp_path / "merged")
    assert json.loads((tmp_path / "merged" / "run.json").read_text())["chosen"] == str(tmp_path / "lr0.001")


def test_merge_refuses_unfinished_duplicate_and_mixed_runs(tmp_path, standards):
    good = make_job(tmp_path / "a", standards, 1e-3, 0, 0.5)
    (tmp_path / "unfinished").mkdir()
    with pytest.raises(RepbenchError) as error:
        merge_runs([good, tmp_path / "unfinished"], tmp_path / "m1")
    assert error.value.code == "run-unfinished"
    with pytest.raises(UsageError) as error:
        merge_runs([good, make_job(tmp_path / "b", standards, 1e-3, 0, 0.4)], tmp_path / "m2")
    assert error.value.code == "grid-duplicate"
    with pytest.raises(UsageError) as error:
        merge_runs([good, make_job(tmp_path / "c", standards, 1e-4, 0, 0.4, data="other")], tmp_path / "m3")
    assert error.value.code == "grid-mismatch"
    result = CliRunner().invoke(app, ["run-merge", str(tmp_path / "unfinished"), "--out", str(tmp_path / "m4")])
    assert result.exit_code == 1 and not (tmp_path / "m4" / "result.json").exists()


def test_one_grid_cell_is_a_single_deeploc_run():
    embedder = pytest.importorskip("repbench_deeploc.embedder")
    protocol = embedder.protocol_for(
        EmbedRequest(cells=None, out_dir=".", protocol="paper", options={"lr": "3e-4", "seeds": "1"})
    )
    assert protocol.lrs == (3e-4,) and protocol.seeds == 1 and protocol.epochs == 30
    with pytest.raises(UsageError):
        embedder.protocol_for(EmbedRequest(cells=None, out_dir=".", protocol="paper", options={"seeds": "0"}))
