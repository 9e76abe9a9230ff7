"""Peak memory of the embedding step at 1x, 4x and 16x the default data size: does it stream?

For each scale, a synthetic shard set of 300 proteins x (24 * scale) cells is generated once (in --workdir),
then a fresh process opens it and runs an embedder's ``embed`` on it (the same call `repbench run` makes),
reporting its own peak resident memory and tracemalloc's heap peak. The default embedder is ``template``
(streams every test cell through ``CellSet.read`` in batches, as any embedder must); ``--embedder deeploc``
runs DeepLoc's batched inference path with one short epoch (slow on a CPU at 16x).

    python benchmarks/bench_embedding_memory.py [--scales 1,4,16] [--embedder template] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, tracemalloc
from pathlib import Path
from repbench import plugins
from repbench.data import open_cells
from repbench.embedders import EmbedRequest
path, name, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
cells = open_cells(path)
embedder = plugins.embedders()[name].embedder
options = {"epochs": "1", "train_cells": "64"} if name == "deeploc" else {}
tracemalloc.start()
start = time.perf_counter()
emb = embedder.embed(EmbedRequest(cells=cells, out_dir=out, options=options))
print(json.dumps({"cells": len(cells), "proteins": len(emb.proteins), "seconds": time.perf_counter() - start,
                  "heap_mib": tracemalloc.get_traced_memory()[1] / 2**20,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--embedder", default="template")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="repbench-embmem-"))
    print(f"{'scale':>5} {'cells':>8} {'proteins':>8} {'seconds':>8} {'heap peak MiB':>14} {'process RSS MiB':>16}")
    for scale in (int(s) for s in args.scales.split(",")):
        data = work / f"x{scale}"
        if not data.exists():
            from repbench.data.synthetic import generate

            generate(data, n_proteins=300, cells_per_protein=24 * scale, seed=0)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(data), args.embedder, str(work / f"out{scale}")],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{scale:>4}x {r['cells']:>8} {r['proteins']:>8} {r['seconds']:>8.1f} "
            f"{r['heap_mib']:>14.1f} {r['rss_mib']:>16.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
