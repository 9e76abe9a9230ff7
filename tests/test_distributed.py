"""`repbench run -e deeploc` under torchrun: two CPU processes (gloo) on a small synthetic set.

Checks that the run finishes and writes its folder once, that each global training batch is split between the
processes (each cell of a batch trained on by exactly one process: none left out, none twice), that every
test cell is embedded by exactly one process, and that the protein table equals what one process computes
from the same checkpoint (up to float summation order: the per-protein sums are added up over processes in
another order).
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("repbench_deeploc")
import pyarrow.parquet as pq  # noqa: E402
from repbench_deeploc.model import DeepLocNet  # noqa: E402

from repbench.data import open_cells  # noqa: E402
from repbench.torch import (
    CheckpointDir,
    choose_runtime,
    epoch_order,
    features_of_cells,
    labelled_ids,  # noqa: E402
    protein_means,
    split_ids,
)

DATA = "demo:proteins=12,cells=16"  # 2 test cells per protein, 24 in all
# one epoch, so the checkpoint's model is the one whose vectors are in the table
OPTIONS = ["epochs=1", "batch_size=4", "train_cells=8", "val_cells=all", "bn_cells=8", "precision=fp32"]
# (2 cells a step per process; batch-norm statistics recomputed from 8 cells after the epoch)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: `python -m repbench ARGS` that records, per process, the cell ids each training step reads (to $SEEN_DIR)
DRIVER = r"""
import json, os, runpy, sys
import repbench.data
import repbench_deeploc.training as training

steps, state = [], {"training": False}
real_open, real_epoch = repbench.data.open_cells, training.run_training_epoch


def open_cells(*args, **kwargs):
    cells = repbench.data.open_cells = real_open(*args, **kwargs)
    read = cells.read

    def recording_read(ids):
        if state["training"]:
            steps.append([int(i) for i in ids])
        return read(ids)

    cells.read = recording_read
    return cells


def run_training_epoch(*args, **kwargs):  # the optimizer steps of one epoch (not the batch-norm pass after it)
    state["training"] = True
    try:
        return real_epoch(*args, **kwargs)
    finally:
        state["training"] = False


repbench.data.open_cells, training.run_training_epoch = open_cells, run_training_epoch
sys.argv = ["repbench", *sys.argv[1:]]
try:
    runpy.run_module("repbench", run_name="__main__")
finally:
    with open(os.path.join(os.environ["SEEN_DIR"], f"rank-{os.environ['RANK']}.json"), "w") as handle:
        json.dump(steps, handle)
"""


def torchrun_deeploc(out, cache, seen, processes=2):
    driver = seen / "driver.py"
    driver.write_text(DRIVER)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={processes}",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        str(driver),
        "run",
        "-e",
        "deeploc",
        "--data",
        DATA,
        "--device",
        "cpu",
        "--out",
        str(out),
        "--json",
    ]
    for option in OPTIONS:
        command += ["-o", option]
    env = {**os.environ, "REPBENCH_CACHE": str(cache), "OMP_NUM_THREADS": "1", "SEEN_DIR": str(seen)}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def table_of(path):
    parquet = pq.read_table(path)
    proteins = parquet.column("protein").to_pylist()
    vectors = np.stack([np.asarray(v, np.float32) for v in parquet.column("embedding").to_pylist()])
    return proteins, vectors, json.loads(parquet.schema.metadata[b"repbench"])


def test_two_gloo_processes_embed_every_test_cell_once_and_match_one_process(tmp_path):
    out, seen = tmp_path / "run", tmp_path / "seen"
    seen.mkdir()
    done = torchrun_deeploc(out, tmp_path / "cache", seen)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(done.stdout)  # only rank 0 printed: stdout is exactly one JSON document
    assert len(record["trajectory"]) == 1
    proteins, vectors, metadata = table_of(out / "embeddings.parquet")
    assert metadata["params"]["processes"] == 2

    # every test cell embedded by exactly one process; per-protein counts are the index's
    os.environ["REPBENCH_CACHE"] = str(tmp_path / "cache")
    try:
        cells = open_cells(DATA, seed=0)
    finally:
        del os.environ["REPBENCH_CACHE"]
    # each global batch of the epoch's order (4 cells) is split: every cell trained on by exactly one process
    order = epoch_order(labelled_ids(cells, "train"), 0, 1, limit=8)
    batches = [order[i : i + 4] for i in range(0, 8, 4)]
    per_rank = [json.loads((seen / f"rank-{rank}.json").read_text()) for rank in range(2)]
    assert [len(steps) for steps in per_rank] == [len(batches)] * 2  # the same number of steps everywhere
    for step, batch in enumerate(batches):
        shares = [per_rank[rank][step] for rank in range(2)]
        assert all(len(share) == 2 for share in shares)
        assert sorted(shares[0] + shares[1]) == sorted(batch.tolist()), step  # the whole batch, no cell twice
    test_ids = split_ids(cells, "test")
    test_proteins = cells.index["protein"].to_numpy()[test_ids].astype(str)
    [run_dir] = (out / "checkpoints").iterdir()
    spread = json.loads((run_dir / "distributed.json").read_text())
    assert spread["cells"] == len(test_ids) == 24
    assert spread["times_embedded"] == [0, len(test_ids)]  # nobody embedded 0 times, nobody twice
    assert sum(spread["cells_per_rank"]) == len(test_ids) and min(spread["cells_per_rank"]) > 0
    names, counts = np.unique(test_proteins, return_counts=True)
    assert spread["proteins"] == {str(n): int(c) for n, c in zip(names, counts)}

    # one process, from the checkpoint the two processes wrote: same proteins, same order, same means
    state = CheckpointDir(run_dir).load_latest()
    net = DeepLocNet(n_classes=len(cells.classes))
    net.load_state_dict(state["model"])
    runtime = choose_runtime("cpu", {"precision": "fp32"})
    net = runtime.prepare_model(net).eval()
    single = features_of_cells(net.features, cells, test_ids, runtime)
    single_proteins, single_means = protein_means(test_proteins, single)
    assert proteins == single_proteins
    np.testing.assert_allclose(vectors, single_means, rtol=1e-5, atol=1e-6)
    # and the stored best vectors are what went into the table
    np.testing.assert_array_equal(state["best"]["vectors"].numpy(), vectors)
