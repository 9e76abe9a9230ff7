"""Speed of the verdicts: all pairwise paired tests among 50 records of 4,000 proteins, 1,000 resamples.

    python benchmarks/bench_compare.py              # 50 records, 4 tiers, 1,000 resamples; yardstick on 3 pairs
    python benchmarks/bench_compare.py --records 10 # smaller

Goal (docs/performance.md): every pair of 50 records (1,225 pairs x 4 tiers) in <= 30 s on two cores, the
per-query APs computed once per record and cached (repbench.verdicts.query_aps), not per pair.

What is timed:
1. cold: ``query_aps`` of one 4,000 x 64 table (computed and written to the cache) and warm (read back):
   the per-record cost, paid once per record;
2. ``pairwise_tests`` of every tier over the 50 records' cached APs, plus ``rank_table`` (rank intervals per
   tier and overall, with the leader tests): the all-pairs cost;
3. the yardstick: the naive per-pair procedure, recomputing both records' per-query APs for each pair
   (``compute_query_aps`` twice + ``paired_test`` per tier), on a few pairs, extrapolated to all pairs.

The 50 records share the cost structure of real ones: each is the per-query APs of a 4,000-protein table on
the shipped standards, perturbed per record (seeded), and each covers a different 97-100% of the proteins.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from repbench import standards as standards_mod
from repbench.table import read_table, write_table
from repbench.verdicts import compute_query_aps, paired_test, pairwise_tests, query_aps, rank_table, universe


def table(path: Path, st, n: int = 4000, d: int = 64, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    proteins = sorted(rng.choice(list(st.reference_proteome), n, replace=False).tolist())
    vectors = rng.standard_normal((n, d))
    for g, members in enumerate(st.tiers["go_cc"].groups.values()):
        rows = [i for i, p in enumerate(proteins) if p in set(members)]
        vectors[rows] += 0.3 * np.random.default_rng(g).standard_normal(d)
    return write_table(path, proteins, vectors)


def records(base: dict[str, pd.Series], count: int, seed: int = 0) -> dict[str, dict[str, pd.Series]]:
    rng = np.random.default_rng(seed)
    out = {}
    for r in range(count):
        row = {}
        for tier, s in base.items():
            values = np.clip(s.to_numpy() + rng.normal(0.001 * r, 0.05, s.size), 0, 1)  # neighbours: hard to tell apart
            keep = rng.random(s.size) >= rng.uniform(0, 0.03)
            row[tier] = pd.Series(values[keep], index=s.index[keep])
        out[f"record-{r:02d}"] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--yardstick-pairs", type=int, default=3)
    args = parser.parse_args()
    st = standards_mod.load()
    space = universe(st)
    with tempfile.TemporaryDirectory() as tmp:
        path = table(Path(tmp) / "t.parquet", st)
        t = read_table(path, st)
        start = time.perf_counter()
        base = query_aps(t, st, cache_dir=Path(tmp) / "cache")
        cold = time.perf_counter() - start
        from repbench.verdicts import queries

        queries._MEMORY.clear()
        start = time.perf_counter()
        query_aps(t, st, cache_dir=Path(tmp) / "cache")
        warm = time.perf_counter() - start
    rows = records(base, args.records)
    names = list(rows)
    n_pairs = len(names) * (len(names) - 1) // 2
    start = time.perf_counter()
    tests = {
        tier: pairwise_tests({n: rows[n][tier] for n in names}, args.resamples, universe=space) for tier in st.tiers
    }
    pairs_s = time.perf_counter() - start
    start = time.perf_counter()
    ranks = rank_table(rows, args.resamples, universe=space)
    ranks_s = time.perf_counter() - start
    significant = sum(int((frame["p"] < 0.05).sum()) for frame in tests.values())

    # the yardstick: per pair, recompute both tables' per-query APs, then one paired test per tier
    rng = np.random.default_rng(0)
    vectors = [rng.standard_normal((t.vectors.shape[0], 64)) for _ in range(2)]
    start = time.perf_counter()
    for _ in range(args.yardstick_pairs):
        a = compute_query_aps(t.proteins, t.vectors + 0.1 * vectors[0], st)
        b = compute_query_aps(t.proteins, t.vectors + 0.1 * vectors[1], st)
        for tier in st.tiers:
            paired_test(a[tier], b[tier], args.resamples, universe=space)
    per_pair = (time.perf_counter() - start) / args.yardstick_pairs

    total = pairs_s + ranks_s
    print(
        f"records: {len(names)} x 4,000 proteins (per-query APs of {sum(s.size for s in base.values()):,} "
        f"queries over 4 tiers), {args.resamples:,} resamples, universe {len(space):,} proteins"
    )
    print(f"per record, once: query_aps cold {cold:.2f} s (computed + cached), warm {warm:.3f} s (from the cache)")
    print(
        f"all pairs: {n_pairs:,} pairs x 4 tiers = {4 * n_pairs:,} paired tests in {pairs_s:.2f} s "
        f"({significant:,} with p < 0.05); rank_table (4 tiers + overall, leader tests) {ranks_s:.2f} s"
    )
    print(f"total {total:.2f} s (goal <= 30 s on two cores)")
    print(
        f"yardstick (recompute per pair): {per_pair:.2f} s per pair -> {per_pair * n_pairs:,.0f} s for all "
        f"{n_pairs:,} pairs ({per_pair * n_pairs / total:,.0f}x slower)"
    )
    print(
        f"leader overall: {ranks['overall'].index[0]} (rank interval "
        f"{ranks['overall']['rank_low'].iloc[0]:.0f}-{ranks['overall']['rank_high'].iloc[0]:.0f})"
    )


if __name__ == "__main__":
    main()
