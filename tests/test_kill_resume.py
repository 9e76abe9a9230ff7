"""SIGKILL `repbench run -e deeploc` at fixed points, rerun it each time, and compare with an uninterrupted run of
the same seed: the trajectory epoch by epoch and the protein table bit for bit.

The kill points are reached by the process itself, not by timing: a small driver (``DRIVER``) wraps
``os.replace`` or the optimizer step in the child process and sends itself SIGKILL

* ``after-checkpoint:K``: the moment epoch K's checkpoint has its final name (before epoch K is scored and
  written to trajectory.json: the window in which an epoch record used to be lost for good, issue 12);
* ``mid-epoch:K``: right after the first optimizer step of epoch K;
* ``trajectory-write:K``: inside the atomic write of trajectory.json that adds epoch K (the temp file is
  complete, the rename has not happened).

Bitwise, not allclose: every epoch draws its order and flips from (seed, epoch) only and re-seeds the
global generators, the checkpoint restores model, optimizer and RNG state exactly, the precision is pinned
(fp32; a resumed run keeps the precision its checkpoints were made in anyway), and all runs use the same
machine and thread count, so the resumed run performs the same float operations in the same order. The
epoch record of the checkpoint's epoch is handed to the run again on resume, and the evaluator is
deterministic, so every trajectory entry is the uninterrupted one's.
Also: checkpoints never unpickle (a pickle that would run code is refused, not executed).
"""

import json
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("repbench_deeploc")
import pyarrow.parquet as pq  # noqa: E402

from repbench.errors import RepbenchError  # noqa: E402
from repbench.torch import CheckpointDir  # noqa: E402

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

DATA = "demo:proteins=12,cells=8"  # 12 test cells (the evaluator needs 10 proteins)
# 2 steps of 2 cells an epoch; batch-norm statistics recomputed from 4 cells, validation on 4 cells
OPTIONS = ["epochs=3", "batch_size=2", "train_cells=4", "val_cells=4", "bn_cells=4", "precision=fp32"]

#: runs `python -m repbench ARGS` and SIGKILLs itself at the point named by $KILL_AT (none: runs to the end)
DRIVER = r"""
import json, os, runpy, signal, sys

point, _, epoch = os.environ.get("KILL_AT", "").partition(":")
epoch = int(epoch or 0)


def die():
    os.kill(os.getpid(), signal.SIGKILL)


real_replace = os.replace


def replace(src, dst, *args, **kwargs):
    name = os.path.basename(os.fspath(dst))
    if point == "trajectory-write" and name == "trajectory.json":
        with open(src) as handle:
            entries = json.load(handle)
        if entries and entries[-1]["epoch"] == epoch:
            die()  # the new trajectory is complete in its temp file and not yet renamed
    real_replace(src, dst, *args, **kwargs)
    if point == "after-checkpoint" and name == f"epoch-{epoch:03d}.pt":
        die()  # the checkpoint has just appeared; the epoch is not scored yet


os.replace = replace
if point == "mid-epoch":
    import torch
    import repbench.torch.loop as loop

    state = {"armed": False}
    real_seed, real_step = loop.seed_everything, torch.optim.Adam.step

    def seed_everything(*parts):
        state["armed"] = parts[1:] == (epoch,)  # the loop seeds (seed, epoch) as an epoch starts
        return real_seed(*parts)

    def step(self, *args, **kwargs):
        out = real_step(self, *args, **kwargs)
        if state["armed"]:
            die()  # after the first optimizer step of that epoch
        return out

    loop.seed_everything, torch.optim.Adam.step = seed_everything, step
sys.argv = ["repbench", *sys.argv[1:]]
runpy.run_module("repbench", run_name="__main__")
"""


def run_deeploc(out, cache, kill_at=""):
    command = [
        sys.executable,
        "-c",
        DRIVER,
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
    return subprocess.run(
        command,
        env={**os.environ, "REPBENCH_CACHE": str(cache), "KILL_AT": kill_at},
        capture_output=True,
        text=True,
        timeout=1800,
    )  # a guard against a hang only


def checkpoint_epochs(out):
    folders = list((out / "checkpoints").glob("*")) if (out / "checkpoints").is_dir() else []
    return [epoch for folder in folders for epoch in CheckpointDir(folder).epochs()]


def scored_epochs(out):
    return [entry["epoch"] for entry in json.loads((out / "trajectory.json").read_text())]


def table_of(path):
    parquet = pq.read_table(path)
    vectors = np.stack([np.asarray(v, np.float32) for v in parquet.column("embedding").to_pylist()])
    return parquet.column("protein").to_pylist(), vectors, json.loads(parquet.schema.metadata[b"repbench"])


def killed_at(out, cache, point):
    """Run until the kill point, assert the process died there and leave what it left on disk."""
    done = run_deeploc(out, cache, point)
    assert done.returncode == -9, f"{point}: status {done.returncode}, not killed: {done.stderr[-2000:]}"
    assert not (out / "embeddings.parquet").exists() and not (out / "result.json").exists()
    kind, epoch = point.split(":")
    epoch = int(epoch)
    if kind == "after-checkpoint":  # the checkpoint is there, its epoch not yet in the trajectory
        assert max(checkpoint_epochs(out)) == epoch and scored_epochs(out) == list(range(1, epoch))
    elif kind == "mid-epoch":  # the epoch had started from the previous checkpoint
        assert max(checkpoint_epochs(out), default=0) == epoch - 1 and scored_epochs(out) == list(range(1, epoch))
    else:  # trajectory-write: the complete new trajectory sits in a temp file, the old one is in place
        [temp] = out.glob(".trajectory.json.*.tmp")
        assert [e["epoch"] for e in json.loads(temp.read_text())] == list(range(1, epoch + 1))
        assert scored_epochs(out) == list(range(1, epoch)) and max(checkpoint_epochs(out)) == epoch
        temp.unlink()  # what a killed write leaves (a later write uses another temp name)


def interrupted_then_finished(out, cache, points):
    for point in points:
        killed_at(out, cache, point)
    done = run_deeploc(out, cache)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


#: one run folder, killed at each point in turn (each run resumes from what the previous one left):
#: after-checkpoint:2 then trajectory-write:2 kills the resumed run while it writes epoch 2's record again;
#: after-checkpoint:3 leaves nothing to train, only epoch 3's record to write
KILLS = ["after-checkpoint:1", "mid-epoch:2", "after-checkpoint:2", "trajectory-write:2", "after-checkpoint:3"]


def test_sigkill_at_fixed_points_then_resume_gives_the_uninterrupted_trajectory_and_table(tmp_path):
    cache = tmp_path / "cache"
    subprocess.run(
        [sys.executable, "-c", f"from repbench.data import open_cells; open_cells({DATA!r})"],
        env={**os.environ, "REPBENCH_CACHE": str(cache)},
        check=True,
    )  # all runs then share it
    with ThreadPoolExecutor(2) as pool:  # side by side: the same thread count in each
        reference = pool.submit(interrupted_then_finished, tmp_path / "reference", cache, [])
        resumed = interrupted_then_finished(tmp_path / "resumed", cache, KILLS)
        reference = reference.result()

    ref_trajectory = json.loads((tmp_path / "reference" / "trajectory.json").read_text())
    trajectory = json.loads((tmp_path / "resumed" / "trajectory.json").read_text())
    assert [entry["epoch"] for entry in ref_trajectory] == [1, 2, 3]
    for entry, ref_entry in zip(trajectory, ref_trajectory, strict=True):  # epoch by epoch: logs and scores
        assert entry == ref_entry, entry["epoch"]
    assert resumed["trajectory"] == reference["trajectory"] == ref_trajectory
    proteins, vectors, metadata = table_of(tmp_path / "resumed" / "embeddings.parquet")
    ref_proteins, ref_vectors, ref_metadata = table_of(tmp_path / "reference" / "embeddings.parquet")
    assert proteins == ref_proteins
    np.testing.assert_array_equal(vectors, ref_vectors)  # bit for bit (see the module docstring)
    assert metadata["params"]["best_epoch"] == ref_metadata["params"]["best_epoch"]
    assert metadata["params"]["resumed_from_epoch"] == 3 and ref_metadata["params"]["resumed_from_epoch"] == 0
    assert metadata["params"]["precision"] == "fp32" and metadata["params"]["precision_chosen_by"] == "option"
    assert resumed["tiers"] == reference["tiers"]


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
