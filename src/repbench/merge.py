"""``repbench run-merge``: join the single-job runs of a hyper-parameter grid into one run folder.

The paper protocol of DeepLoc is a grid: 5 learning rates x 3 seeds. Each cell can run as its own job
(``repbench run ... --protocol paper -o lr=1e-3 -o seeds=1 --seed 1 --out runs/grid/lr1e-3-s1``, on its
own GPU or cluster node; docs/distributed.md), and this module picks the result the one-process
protocol would have picked, by the paper's rule on each job's best validation loss:

1. learning rate: among the jobs of the smallest seed, the lowest validation loss (the larger rate on
   ties, as in the one-process loop, which tries the rates from large to small);
2. seed: among the jobs with that rate, the lowest validation loss (the smaller seed on ties).

The chosen job's table, trajectory and configuration are copied into ``out`` (the table's metadata gains
``lr_search_val_loss``, ``seed_val_loss`` and ``merged_from``), and the table is evaluated again to
write ``result.json``. Jobs beyond what the rule looks at (e.g. other seeds at rates that lost) are
read and checked but do not change the choice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import RepbenchError, UsageError

#: run.json keys every job of one grid must share
SAME_KEYS = ("embedder", "embedder_version", "data", "labels", "protocol")


@dataclass
class GridJob:
    folder: Path
    config: dict  # run.json
    params: dict  # Embedding.params from the table's metadata: lr, seed, best_val_loss, ...

    @property
    def lr(self) -> float:
        return float(self.params["lr"])

    @property
    def seed(self) -> int:
        return int(self.params["seed"])

    @property
    def val_loss(self) -> float:
        return float(self.params["best_val_loss"])


def read_job(folder: Path) -> GridJob:
    """A finished run folder (run.json, embeddings.parquet, result.json); a clear error otherwise."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    for name in ("run.json", "embeddings.parquet", "result.json"):
        if not (folder / name).is_file():
            raise RepbenchError("run-unfinished", f"no {name}: not a finished `repbench run` folder", path=folder)
    config = json.loads((folder / "run.json").read_text())
    metadata = json.loads(pq.read_schema(folder / "embeddings.parquet").metadata[b"repbench"])
    params = metadata.get("params") or {}
    if params.get("best_val_loss") is None or "lr" not in params or "seed" not in params:
        raise RepbenchError(
            "run-not-mergeable",
            "the table's params have no lr, seed and best_val_loss "
            "(only runs that early-stop on a validation loss can be merged)",
            path=folder,
        )
    return GridJob(folder, config, params)


def choose(jobs: list[GridJob]) -> tuple[GridJob, dict[str, float], dict[str, float]]:
    """The job the paper's rule keeps, with the losses it compared: (job, {lr: loss}, {seed: loss})."""
    by_cell = {}
    for job in jobs:
        if (job.lr, job.seed) in by_cell:
            raise UsageError(
                "grid-duplicate",
                f"two runs for lr={job.lr:g} seed={job.seed}: {by_cell[job.lr, job.seed].folder} and {job.folder}",
            )
        by_cell[job.lr, job.seed] = job
    base_seed = min(job.seed for job in jobs)
    rates = sorted({job.lr for job in jobs if job.seed == base_seed}, reverse=True)  # large to small, as the loop
    lr_losses = {lr: by_cell[lr, base_seed].val_loss for lr in rates}
    chosen_lr = min(rates, key=lambda lr: lr_losses[lr])  # first (larger rate) on ties
    seeds = sorted(job.seed for job in jobs if job.lr == chosen_lr)
    seed_losses = {seed: by_cell[chosen_lr, seed].val_loss for seed in seeds}
    chosen_seed = min(seeds, key=lambda seed: seed_losses[seed])
    return (
        by_cell[chosen_lr, chosen_seed],
        {f"{lr:g}": loss for lr, loss in lr_losses.items()},
        {str(seed): loss for seed, loss in seed_losses.items()},
    )


def merge_runs(folders: list[Path], out: Path, progress=None) -> dict:
    """Merge the grid jobs in ``folders`` into ``out``; returns the result record (with its trajectory)."""
    from . import evaluator, results, standards as standards_mod, table

    if not folders:
        raise UsageError("grid-empty", "give the run folders of the grid's jobs")
    jobs = [read_job(folder) for folder in folders]
    for key in SAME_KEYS:
        values = {json.dumps(job.config.get(key)) for job in jobs}
        if len(values) > 1:
            raise UsageError(
                "grid-mismatch",
                f"the runs differ in {key!r} ({', '.join(sorted(values))}); merge only jobs of one grid",
            )
    chosen, lr_losses, seed_losses = choose(jobs)

    import pyarrow.parquet as pq

    parquet = pq.read_table(chosen.folder / "embeddings.parquet")
    metadata = json.loads(parquet.schema.metadata[b"repbench"])
    metadata["seed"] = chosen.seed
    metadata["params"] = {
        **metadata["params"],
        "lr_search_val_loss": lr_losses,
        "seed_val_loss": seed_losses,
        "merged_from": [str(job.folder) for job in jobs],
    }
    proteins = parquet.column("protein").to_pylist()
    vectors = np.stack([np.asarray(v, np.float32) for v in parquet.column("embedding").to_pylist()])

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").unlink(missing_ok=True)  # never leave an older merge's result beside the new table
    trajectory = (
        json.loads((chosen.folder / "trajectory.json").read_text())
        if (chosen.folder / "trajectory.json").is_file()
        else []
    )
    config = {
        **chosen.config,
        "seed": chosen.seed,
        "merged_from": [str(job.folder) for job in jobs],
        "chosen": str(chosen.folder),
    }
    results.write_json_atomic(out / "run.json", config)
    results.write_json_atomic(out / "trajectory.json", trajectory)
    table_path = table.write_table(out / "embeddings.parquet", proteins, vectors, metadata)
    standards = standards_mod.load()
    result = evaluator.evaluate_table(table.read_table(table_path, standards), standards)
    result["trajectory"] = trajectory
    results.write_json_atomic(out / "result.json", result)
    return result
