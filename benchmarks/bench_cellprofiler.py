"""Throughput of the CellProfiler features (plugins/cellprofiler): cells per second, and CPU per feature family.

Crops: the committed real toy crops (tests/data/yeast_toy, 60 cells) repeated to --cells, or --demo for the
synthetic demo proteome. Prints
  1. CPU milliseconds per cell of each feature family (one process; CPU time, so other load on the machine
     hardly changes it),
  2. wall-clock cells/second of the parallel measurement (``measure_cells``, --workers processes), the
     machine's load average (a busy machine lowers the wall-clock rate), and the CPU the parent and its
     workers used, with the rate it implies for --workers idle cores.

    /work/venv/bin/python benchmarks/bench_cellprofiler.py [--cells 960] [--workers N] [--costes] [--demo]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from repbench_cellprofiler.features import measure_crops, set_costes
from repbench_cellprofiler.parallel import measure_cells

from repbench.data import open_cells

TOY = Path(__file__).resolve().parents[1] / "tests" / "data" / "yeast_toy"


class ArrayCells:
    """A minimal in-memory CellSet over a (n, 2, 64, 64) array (all cells in the test split)."""

    name, dataset, classes = "bench", "real", []

    def __init__(self, crops: np.ndarray):
        self.crops = crops
        self.index = pd.DataFrame({"protein": ["P"] * len(crops), "split": ["test"] * len(crops), "label": -1})

    def __len__(self) -> int:
        return len(self.crops)

    def read(self, cell_ids) -> np.ndarray:
        return self.crops[np.asarray(cell_ids)]


def load_crops(n: int, demo: bool) -> np.ndarray:
    source = open_cells("demo", n_proteins=max(1, n // 24 + 1)) if demo else open_cells(TOY)
    crops = source.read(np.arange(min(n, len(source))))
    return np.concatenate([crops] * int(np.ceil(n / len(crops))))[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=960)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--costes", action="store_true", help="include the (slow) Costes coefficients")
    parser.add_argument("--demo", action="store_true", help="synthetic demo crops instead of the real toy crops")
    args = parser.parse_args()
    crops = load_crops(args.cells, args.demo)
    print(
        f"crops: {len(crops)} ({'synthetic demo' if args.demo else 'real toy crops, repeated'}); "
        f"costes: {args.costes}; CPUs: {os.cpu_count()}"
    )

    set_costes(args.costes)
    measure_crops(crops[: args.chunk])  # warm-up: imports, caches
    family_cpu: dict[str, float] = {}
    sample = crops[: min(len(crops), 320)]
    cpu_start = time.process_time()
    for start in range(0, len(sample), args.chunk):
        measure_crops(sample[start : start + args.chunk], family_cpu)
    cpu_per_cell = (time.process_time() - cpu_start) / len(sample)
    print(f"\n1 process, CPU ms per cell ({len(sample)} cells): total {1000 * cpu_per_cell:.1f}")
    for family, seconds in sorted(family_cpu.items(), key=lambda item: -item[1]):
        print(f"  {family:22s} {1000 * seconds / len(sample):6.2f}")
    print(f"  -> at most {args.workers / cpu_per_cell:.0f} cells/s on {args.workers} idle cores")

    load_before = os.getloadavg()[0]
    times_before, start = os.times(), time.perf_counter()
    result = measure_cells(
        ArrayCells(crops), np.arange(len(crops)), workers=args.workers, chunk=args.chunk, costes=args.costes
    )
    seconds = time.perf_counter() - start
    after = os.times()
    # CPU of this process and of the (finished) workers: what the run would need of idle cores
    cpu = sum(
        getattr(after, f) - getattr(times_before, f) for f in ("user", "system", "children_user", "children_system")
    )
    print(
        f"\nmeasure_cells, {args.workers} workers: {len(crops)} cells in {seconds:.1f} s = "
        f"{len(crops) / seconds:.1f} cells/s (load average before {load_before:.1f}, after "
        f"{os.getloadavg()[0]:.1f}; empty masks {result.empty_masks}, failed {result.failed})"
    )
    print(
        f"  CPU, parent + workers: {cpu:.1f} s = {1000 * cpu / len(crops):.1f} ms per cell -> "
        f"{args.workers * len(crops) / cpu:.0f} cells/s if {args.workers} cores were free for it"
    )


if __name__ == "__main__":
    main()
