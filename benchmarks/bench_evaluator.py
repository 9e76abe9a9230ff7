"""Evaluator speed and memory, against the independent yardstick (benchmarks/reference_evaluator.py).

    python benchmarks/bench_evaluator.py            # 4,000 x 512 table: repbench vs yardstick, ratio, max difference
    python benchmarks/bench_evaluator.py --human    # also 20,000 x 512 on a human-scale standard: time and peak memory

Goals (docs/performance.md): all four tiers <= 3 s, >= 15x faster than the yardstick, difference <= 1e-9;
20,000 x 512 in <= 60 s and <= 6 GB peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from repbench import standards as standards_mod  # noqa: E402
from repbench.evaluator import evaluate_table  # noqa: E402
from repbench.standards import Standards, Tier  # noqa: E402
from repbench.table import read_table, write_table  # noqa: E402

KEYS = ("ap", "f05", "map", "map_ci", "ami", "ami_sd", "prevalence")


def yeast_table(path: Path, n: int = 4000, d: int = 512, seed: int = 0) -> Path:
    st = standards_mod.load()
    rng = np.random.default_rng(seed)
    proteins = sorted(rng.choice(list(st.reference_proteome), n, replace=False).tolist())
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    # some signal, so that rankings are not pure noise: shared offsets within KEGG pathways
    for g, members in enumerate(st.tiers["kegg"].groups.values()):
        rows = [i for i, p in enumerate(proteins) if p in set(members)]
        vectors[rows] += 0.3 * np.random.default_rng(g).standard_normal(d).astype(np.float32)
    return write_table(path, proteins, vectors, {"embedder": "benchmark", "dataset": "synthetic"})


def human_scale_standards(copies: int = 5) -> Standards:
    """Five renamed copies of each yeast tier over 5 x 4,155 proteins: the group sizes and the number of groups
    per protein of yeast-v1 at 20,775 proteins (a human-proteome-sized standard of similar density)."""
    st = standards_mod.load()
    tiers = {}
    for name, tier in st.tiers.items():
        groups = {
            f"{g}#{c}": tuple(f"{m}#{c}" for m in members) for c in range(copies) for g, members in tier.groups.items()
        }
        tiers[name] = Tier(name, dict(sorted(groups.items())), {g: g for g in groups})
    reference = tuple(f"{p}#{c}" for c in range(copies) for p in st.reference_proteome)
    return Standards("human-scale", st.root, st.manifest, "0" * 64, False, tiers, reference)


def run_human(n: int = 20000, d: int = 512) -> dict:
    from repbench.evaluator import evaluate_embedding

    st = human_scale_standards()
    rng = np.random.default_rng(1)
    proteins = sorted(rng.choice(list(st.reference_proteome), n, replace=False).tolist())
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    start = time.perf_counter()
    scores = evaluate_embedding(proteins, vectors, st)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {"seconds": seconds, "peak_gb": peak_gb, "pairs": {t: s["pairs"] for t, s in scores.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--human", action="store_true", help="also the 20,000-protein human-scale run")
    parser.add_argument("--no-yardstick", action="store_true", help="skip the slow straightforward implementation")
    parser.add_argument("--_human-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._human_child:
        print(json.dumps(run_human()))
        return

    from reference_evaluator import reference_evaluate

    st = standards_mod.load()
    with tempfile.TemporaryDirectory() as tmp:
        path = yeast_table(Path(tmp) / "bench.parquet")
        times = []
        for _ in range(4):  # the first run pays one-time costs (id map, caches); report it and the median of the rest
            start = time.perf_counter()
            table = read_table(path, st)
            result = evaluate_table(table, st)
            times.append(time.perf_counter() - start)
        fast = float(np.median(times[1:]))
        print(
            f"repbench evaluate, 4,000 x 512, all four tiers (read + validate + score): first run {times[0]:.2f} s, "
            f"then median {fast:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})"
        )
        for tier, s in result["tiers"].items():
            print(
                f"  {tier:8s} proteins {s['proteins']:5d}  pairs {s['pairs']:9d}  "
                f"ap {s['ap']:.4f}  map {s['map']:.4f}  ami {s['ami']:.4f}"
            )
        if not args.no_yardstick:
            start = time.perf_counter()
            slow_scores = reference_evaluate(table.proteins, table.vectors, st)
            slow = time.perf_counter() - start
            diff = max(
                float(np.max(np.abs(np.asarray(result["tiers"][t][k], float) - np.asarray(slow_scores[t][k], float))))
                for t in slow_scores
                for k in KEYS
            )
            print(f"yardstick (independent reference: one AP per query, one AMI per cut):       {slow:.2f} s")
            print(f"speed-up: {slow / fast:.1f}x   largest difference between their numbers: {diff:.2e}")
    if args.human:
        env = {**os.environ}
        out = subprocess.run(
            [sys.executable, __file__, "--_human-child"], capture_output=True, text=True, env=env, check=True
        )
        human = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"human scale, 20,000 x 512 (5 renamed copies of yeast-v1's tiers): {human['seconds']:.1f} s, "
            f"peak memory {human['peak_gb']:.2f} GB (whole process), pairs {human['pairs']}"
        )


if __name__ == "__main__":
    main()
