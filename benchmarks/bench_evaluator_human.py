"""The evaluator at human scale (standards human-v1), side by side with the yeast run, and against the yardstick.

    python benchmarks/bench_evaluator_human.py            # 20,000 x 512 human + 4,000 x 512 yeast, yardstick subset
    python benchmarks/bench_evaluator_human.py --profile       # also where the human run's time goes (cProfile, top 15)

Goal (issue 13, docs/performance.md): 20,000 x 512 float32, all default human-v1 tiers, at most 60 s and 6 GB peak
memory on two cores. Each scale runs in its own process so that the peak memory (ru_maxrss) is its own. The
tables: Gaussian vectors with a shared offset per Reactome pathway (human) / KEGG pathway (yeast), so that rankings
are not pure noise. The yardstick (benchmarks/reference_evaluator.py) scores a 600-protein subset of the human table
and the script prints the largest difference between its numbers and repbench's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from repbench import standards as standards_mod  # noqa: E402
from repbench.evaluator import evaluate_embedding  # noqa: E402

KEYS = ("ap", "f05", "map", "map_ci", "ami", "ami_sd", "prevalence", "pairs", "positive_pairs", "groups")
SCALES = {"human": ("human-v1", 20_000, "reactome"), "yeast": ("yeast-v1", 4_000, "kegg")}


def make_table(version: str, n: int, signal_tier: str, d: int = 512, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """n proteins of the set's reference proteome (sorted) and float32 (n, d) vectors with some signal."""
    st = standards_mod.load(version)
    rng = np.random.default_rng(seed)
    proteins = sorted(rng.choice(list(st.reference_proteome), n, replace=False).tolist())
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    row = {p: i for i, p in enumerate(proteins)}
    for g, members in enumerate(st.tiers[signal_tier].groups.values()):
        rows = [row[m] for m in members if m in row]
        vectors[rows] += 0.3 * np.random.default_rng(g).standard_normal(d).astype(np.float32)
    return proteins, vectors


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_scale(scale: str, profile: bool) -> dict:
    version, n, signal = SCALES[scale]
    st = standards_mod.load(version)
    proteins, vectors = make_table(version, n, signal)
    stamps = []
    cpu_start = _cpu()
    start = time.perf_counter()

    def progress(tier: str) -> None:
        stamps.append((tier, time.perf_counter() - start))

    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        scores = profiler.runcall(evaluate_embedding, proteins, vectors, st, progress=progress, with_curve=False)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
        print(text.getvalue(), file=sys.stderr)
    else:
        scores = evaluate_embedding(proteins, vectors, st, progress=progress, with_curve=False)
    seconds = time.perf_counter() - start
    cpu = _cpu() - cpu_start
    evaluated = len(set(proteins) & set().union(*(st.tiers[t].members for t in st.default_tiers)))
    previous, per_tier = 0.0, {}
    for tier, at in stamps:
        per_tier[tier] = {
            "seconds": at - previous,
            "proteins": scores[tier]["proteins"],
            "pairs": scores[tier]["pairs"],
        }
        previous = at
    return {
        "scale": scale,
        "version": version,
        "n": n,
        "evaluated": evaluated,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "tiers": per_tier,
    }


def yardstick_subset(n: int = 600) -> float:
    """Largest difference between repbench and the yardstick on n proteins of the human table, all default tiers."""
    from reference_evaluator import reference_evaluate

    st = standards_mod.load("human-v1")
    proteins, vectors = make_table("human-v1", SCALES["human"][1], "reactome")
    known = set().union(*(st.tiers[t].members for t in st.default_tiers))
    pick = [i for i, p in enumerate(proteins) if p in known][:: max(1, len(known) // n)][:n]
    sub_p, sub_v = [proteins[i] for i in pick], vectors[pick]
    fast = evaluate_embedding(sub_p, sub_v, st, with_curve=False)
    slow = reference_evaluate(sub_p, sub_v, st)
    return max(
        float(np.max(np.abs(np.asarray(fast[t][k], float) - np.asarray(slow[t][k], float))))
        for t in fast
        for k in KEYS
        if k in slow[t] and fast[t].get(k) is not None
    )


def report(runs: dict[str, dict]) -> None:
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall clock is only meaningful near 0)")
    print("| run | proteins evaluated | pairs (all tiers) | wall s | CPU s | CPU s per million pairs | peak memory |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in runs.values():
        pairs = sum(t["pairs"] for t in r["tiers"].values())
        print(
            f"| {r['version']}, {r['n']:,} x 512 | {r['evaluated']:,} | {pairs / 1e6:.1f} M | {r['seconds']:.1f} | "
            f"{r['cpu_seconds']:.1f} | {r['cpu_seconds'] / (pairs / 1e6):.2f} | {r['peak_gb']:.2f} GB |"
        )
    for r in runs.values():
        print(
            f"{r['version']} per tier (wall s): "
            + ", ".join(
                f"{t} {v['proteins']:,} proteins {v['pairs'] / 1e6:.1f} M pairs {v['seconds']:.1f} s"
                for t, v in r["tiers"].items()
            )
        )
    print("goal (human): <= 60 s and <= 6 GB peak on two cores")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true", help="cProfile the human run (stderr)")
    parser.add_argument("--no-yardstick", action="store_true")
    parser.add_argument("--yardstick-only", action="store_true")
    parser.add_argument("--_child", choices=sorted(SCALES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        print(json.dumps(run_scale(args._child, args.profile)))
        return
    runs = {}
    for scale in () if args.yardstick_only else ("yeast", "human"):
        command = [sys.executable, __file__, "--_child", scale] + (
            ["--profile"] if args.profile and scale == "human" else []
        )
        out = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        runs[scale] = json.loads(out.stdout.strip().splitlines()[-1])
    if runs:
        report(runs)
    if not args.no_yardstick:
        print(f"yardstick on a 600-protein subset of the human table: largest difference {yardstick_subset():.2e}")


if __name__ == "__main__":
    main()
