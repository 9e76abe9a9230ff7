"""Peak memory of `repbench evaluate` at 1x, 4x and 16x the default size (300 proteins, the demo data set).

Each size runs in a fresh subprocess that writes a table of n proteins x 512 float32 and evaluates it from
the file, as `repbench evaluate` does; it reports the evaluation's own peak (tracemalloc: numpy and Python
allocations) and the process's peak resident memory. Sizes past the 4,155 yeast reference proteins use
the human-scale standard of bench_evaluator.py (renamed copies of the yeast tiers).

    python benchmarks/bench_evaluator_memory.py [--scales 1,4,16,64]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, tempfile, time, tracemalloc
from pathlib import Path
import numpy as np
sys.path.insert(0, %(bench)r)
from bench_evaluator import human_scale_standards
from repbench import standards as S
from repbench.evaluator import evaluate_embedding
n = int(sys.argv[1])
st = S.load() if n <= 4000 else human_scale_standards()
rng = np.random.default_rng(0)
proteins = sorted(rng.choice(list(st.reference_proteome), n, replace=False).tolist())
vectors = rng.standard_normal((n, 512)).astype(np.float32)
tracemalloc.start()
start = time.perf_counter()
scores = evaluate_embedding(proteins, vectors, st)
seconds = time.perf_counter() - start
heap = tracemalloc.get_traced_memory()[1]
pairs = sum(s["pairs"] for s in scores.values())
rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": n, "seconds": seconds, "heap_mib": heap / 2**20, "rss_mib": rss_mib, "pairs": pairs}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="1,4,16")
    args = parser.parse_args()
    bench = str(Path(__file__).resolve().parent)
    print(
        f"{'scale':>5} {'proteins':>8} {'pairs (all tiers)':>18} {'seconds':>8} "
        f"{'eval heap peak MiB':>19} {'process RSS MiB':>16} {'bytes/pair':>10}"
    )
    for scale in (int(s) for s in args.scales.split(",")):
        n = 300 * scale
        out = subprocess.run(
            [sys.executable, "-c", CHILD % {"bench": bench}, str(n)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{scale:>4}x {n:>8} {r['pairs']:>18,} {r['seconds']:>8.2f} {r['heap_mib']:>19.1f} "
            f"{r['rss_mib']:>16.1f} {r['heap_mib'] * 2**20 / max(r['pairs'], 1):>10.1f}"
        )


if __name__ == "__main__":
    main()
