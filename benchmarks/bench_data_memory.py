"""Peak memory (RSS) of the data layer at 1x / 4x / 16x the default synthetic size: does it stream?

Each step runs in a fresh subprocess and reports its own peak resident set size (ru_maxrss), so the
numbers do not mix. Sizes scale the cells per protein (the default set has 300 proteins x 24 cells;
there are not 16 x 300 candidate proteins). Steps:

* baseline  - Python + numpy/pandas/pyarrow + repbench.data imported, nothing else
* generate  - draw the synthetic set into shards (streaming writer)
* read-all  - open the shard folder and read every cell in batches of 256 (iter_batches)
* write-tiff - (convert scales only) export the set as a TIFF layout, the input of `convert`
* convert   - `repbench.data.shards.convert` of that TIFF layout

Usage: python benchmarks/bench_data_memory.py [--scales 1,4,16] [--convert-scales 1,4] [--workdir DIR]
Prints one line per step: scale, cells, step, seconds, peak RSS (MiB; includes pages of memory-mapped
shards, which the kernel can drop), heap peak (MiB, tracemalloc: Python + numpy allocations), data on disk.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROTEINS, CELLS = 300, 24

STEP = r"""
import json, resource, sys, time, tracemalloc
from pathlib import Path
import numpy as np
step, work, cells_per_protein = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
tracemalloc.start()  # numpy reports its buffers to tracemalloc: the heap peak, without mapped files
start = time.perf_counter()
if step == "baseline":
    import repbench.data.synthetic, repbench.data.shards, repbench.data.tiff_layout  # imports only
elif step == "generate":
    from repbench.data.synthetic import generate
    generate(work / "shards", n_proteins=%(proteins)d, cells_per_protein=cells_per_protein, seed=0)
elif step == "read-all":
    from repbench.data.shards import ShardCellSet
    cells = ShardCellSet(work / "shards")
    total = 0.0
    for ids, crops in cells.iter_batches(None, batch_size=256):
        total += float(crops[:, 0, 32, 32].sum())
elif step == "write-tiff":
    import tifffile
    from repbench.data.shards import ShardCellSet
    cells = ShardCellSet(work / "shards")
    proteins = cells.index["protein"].astype(str).to_numpy()
    for ids, _ in cells.iter_batches(None, batch_size=256):
        raw = cells.read_raw(ids)
        for cell_id, crop in zip(ids, raw):
            folder = work / "tiff" / proteins[cell_id]
            folder.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(folder / f"c{cell_id}_gfp.tif", crop[0])
            tifffile.imwrite(folder / f"c{cell_id}_rfp.tif", crop[1])
elif step == "convert":
    from repbench.data.shards import convert
    convert(work / "tiff", work / "converted", dtype="float16")
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
heap_peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "heap_mib": heap_peak / 2**20}))
""" % {"proteins": PROTEINS}


def disk_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def run_step(step: str, work: Path, cells_per_protein: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", STEP, step, str(work), str(cells_per_protein)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--convert-scales", default="1,4")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="repbench-bench-", dir=args.workdir))
    convert_scales = {int(s) for s in args.convert_scales.split(",") if s}
    print(
        f"{'scale':>5} {'cells':>8} {'step':<10} {'seconds':>8} {'peak RSS MiB':>13} {'heap peak MiB':>14} "
        f"{'on disk MiB':>12}"
    )
    try:
        for scale in (int(s) for s in args.scales.split(",")):
            work = base / f"x{scale}"
            work.mkdir()
            cells = PROTEINS * CELLS * scale
            steps = (
                (["baseline"] if scale == 1 else [])
                + ["generate", "read-all"]
                + (["write-tiff", "convert"] if scale in convert_scales else [])
            )
            for step in steps:
                result = run_step(step, work, CELLS * scale)
                folder = {
                    "baseline": "none",
                    "generate": "shards",
                    "read-all": "shards",
                    "write-tiff": "tiff",
                    "convert": "converted",
                }[step]
                print(
                    f"{scale:>5} {cells:>8} {step:<10} {result['seconds']:>8.1f} {result['peak_mib']:>13.0f} "
                    f"{result['heap_mib']:>14.0f} {disk_mib(work / folder):>12.0f}",
                    flush=True,
                )
            shutil.rmtree(work)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
