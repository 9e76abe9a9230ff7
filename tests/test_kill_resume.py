"""SIGKILL `repbench run -e deeploc` twice (right after a checkpoint appears, and mid-epoch), rerun it each
time, and compare the final protein table with an uninterrupted run of the same seed: bit for bit.

Bitwise, not allclose: every epoch draws its order and flips from (seed, epoch) only and re-seeds the
global generators, the checkpoint restores model, optimizer and RNG state exactly, and both runs use the
same machine and thread count, so the resumed run performs the same float operations in the same order.
Also: checkpoints never unpickle (a pickle that would run code is refused, not executed).
"""
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("repbench_deeploc")
import pyarrow.parquet as pq  # noqa: E402

from repbench.errors import RepbenchError  # noqa: E402
from repbench.torch import CheckpointDir  # noqa: E402

DATA = "demo:proteins=12,cells=8"
# 2 steps of 4 cells an epoch; batch-norm statistics recomputed from 8 cells after each epoch
OPTIONS = ["epochs=3", "batch_size=4", "train_cells=8", "val_cells=all", "bn_cells=8", "precision=fp32"]


def start_run(out, cache):
    command = [sys.executable, "-m", "repbench", "run", "-e", "deeploc", "--data", DATA, "--device", "cpu",
               "--out", str(out), "--json"]
    for option in OPTIONS:
        command += ["-o", option]
    return subprocess.Popen(command, env={**os.environ, "REPBENCH_CACHE": str(cache)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(condition, process, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"run ended before the kill point (status {process.returncode}): "
                                 f"{process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("kill point not reached in time")
        time.sleep(0.02)


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    process.stderr.close()


def checkpoint_epochs(out):
    folders = list((out / "checkpoints").glob("*")) if (out / "checkpoints").is_dir() else []
    return [epoch for folder in folders for epoch in CheckpointDir(folder).epochs()]


def scored_epochs(out):
    try:
        return [entry["epoch"] for entry in json.loads((out / "trajectory.json").read_text())]
    except (OSError, ValueError):
        return []


def table_of(path):
    parquet = pq.read_table(path)
    vectors = np.stack([np.asarray(v, np.float32) for v in parquet.column("embedding").to_pylist()])
    return parquet.column("protein").to_pylist(), vectors, json.loads(parquet.schema.metadata[b"repbench"])


def test_sigkill_after_a_checkpoint_and_mid_epoch_then_resume_gives_the_uninterrupted_table(tmp_path):
    cache = tmp_path / "cache"
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    subprocess.run([sys.executable, "-c", f"from repbench.data import open_cells; open_cells({DATA!r})"],
                   env={**os.environ, "REPBENCH_CACHE": str(cache)}, check=True)  # both runs then share it
    uninterrupted = start_run(reference, cache)  # alongside the interrupted runs: same thread count, same result

    # 1. killed the moment epoch 1's checkpoint is on disk (while rank 0 scores the epoch)
    first = start_run(resumed, cache)
    wait_until(lambda: 1 in checkpoint_epochs(resumed), first)
    kill(first)
    assert not (resumed / "embeddings.parquet").exists()

    # 2. resumed from epoch 1, killed at a random moment after epoch 2 was scored: inside epoch 3
    delay = random.uniform(0.0, 1.5)
    second = start_run(resumed, cache)
    wait_until(lambda: 2 in scored_epochs(resumed), second)
    until = time.monotonic() + delay
    while time.monotonic() < until and 3 not in checkpoint_epochs(resumed):  # on a fast machine: no later
        time.sleep(0.01)
    kill(second)
    killed_after = checkpoint_epochs(resumed)
    assert not (resumed / "embeddings.parquet").exists()

    # 3. resumed again, runs to the end
    third = start_run(resumed, cache)
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0, err[-3000:]
    out_ref, err_ref = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, err_ref[-3000:]

    proteins, vectors, metadata = table_of(resumed / "embeddings.parquet")
    ref_proteins, ref_vectors, ref_metadata = table_of(reference / "embeddings.parquet")
    assert metadata["params"]["resumed_from_epoch"] == max(killed_after), (delay, killed_after)
    assert ref_metadata["params"]["resumed_from_epoch"] == 0
    assert proteins == ref_proteins
    np.testing.assert_array_equal(vectors, ref_vectors)  # bit for bit (see the module docstring)
    assert metadata["params"]["best_epoch"] == ref_metadata["params"]["best_epoch"]
    assert json.loads(out)["trajectory"][-1]["logs"] == json.loads(out_ref)["trajectory"][-1]["logs"]


class _RunsCode:
    """Unpickling this calls os.system: what a booby-trapped checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_checkpoint_that_would_run_code_when_unpickled_is_refused_not_run(tmp_path):
    marker = tmp_path / "code-ran"
    folder = CheckpointDir(tmp_path / "checkpoints")
    folder.path.mkdir()
    # a torch.save file holding an object whose unpickling runs a shell command
    torch.save({"format": 1, "epoch": 1, "payload": _RunsCode(marker)}, folder.path_of(1), pickle_protocol=2)
    with pytest.raises(RepbenchError) as error:
        folder.load_latest()
    assert error.value.code == "checkpoint-unreadable"
    assert "epoch-001.pt" in str(error.value.path) and "delete it" in str(error.value)
    assert not marker.exists()  # refused, not executed
    # a plain pickle (not a torch archive) carrying the same trap is refused as well
    folder.path_of(2).write_bytes(pickle.dumps(_RunsCode(marker), protocol=2))
    with pytest.raises(RepbenchError):
        folder.load_latest()
    assert not marker.exists()
