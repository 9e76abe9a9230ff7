"""Leaderboard build time: N submissions of P proteins (with embedding tables), built cold, then warm.

    python benchmarks/bench_leaderboard.py                      # 200 x 4,000, sklearn t-SNE (slow cold build)
    python benchmarks/bench_leaderboard.py --tsne stand-in      # cold build with a PCA stand-in for t-SNE
    python benchmarks/bench_leaderboard.py --tsne stand-in --aps stand-in   # ... and for the per-query APs
    python benchmarks/bench_leaderboard.py --records 4 --workers 2

The goal (issue 5) is the warm build: at most 30 s for 200 x 4,000 once the t-SNE cache is warm. A cold build
costs about one t-SNE per submission (tens of seconds each on a laptop core); ``--tsne stand-in`` replaces
the t-SNE by a 2-D PCA (drawn and cached exactly like a t-SNE map) so that the warm build can be measured on a
small machine in minutes, and ``--records 4`` measures the real t-SNE's cold cost per submission. The rank
intervals need each table's per-query APs (one evaluation per table, cached by the cold build);
``--aps stand-in`` replaces that evaluation by random APs on each tier's members (cached exactly like the
real ones), so the warm build, which only reads the cache and runs the joint bootstrap, is measured as it is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from repbench.leaderboard import build_site, plots, samples


def pca_stand_in(vectors: np.ndarray) -> np.ndarray:
    centred = np.asarray(vectors, dtype=np.float64) - np.mean(vectors, axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T


def aps_stand_in(proteins, vectors, standards, tiers=None):
    """Random per-query APs (cached like real ones) for each tier's members among ``proteins``."""
    import pandas as pd

    rng = np.random.default_rng(abs(hash(tuple(proteins[:5]))) % (1 << 32))
    out = {}
    for tier in tiers or standards.tiers:
        members = sorted(p for p in proteins if p in standards.tiers[tier].members)
        out[tier] = pd.Series(rng.uniform(0, 0.6, len(members)), index=pd.Index(members, name="protein"), name=tier)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--proteins", type=int, default=4000)
    parser.add_argument("--dimension", type=int, default=64)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tsne", choices=("sklearn", "stand-in"), default="sklearn")
    parser.add_argument("--aps", choices=("evaluator", "stand-in"), default="evaluator")
    parser.add_argument("--keep", type=Path, help="keep the submissions and site here instead of a temp folder")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-leaderboard-"))
    folder, out = root / "submissions", root / "site"
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    for i in range(args.records):
        samples.make_submission(
            rng,
            f"Model {i:03d}",
            f"model-{i:03d}",
            folder=folder,
            embedding=True,
            proteins=args.proteins,
            dimension=args.dimension,
            epochs=int(rng.integers(0, 12)),
            reference=i < 3,
        )
    print(
        f"generated {args.records} records x {args.proteins} proteins (dimension {args.dimension}) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    workers = args.workers
    if args.tsne == "stand-in":
        plots.tsne_coordinates = pca_stand_in  # patched in this process only: draw here, not in workers
        workers = 1
    if args.aps == "stand-in":
        from repbench.verdicts import queries

        queries.compute_query_aps = aps_stand_in
    cold = build_site(folder, out, workers=workers)
    warm = build_site(folder, out, workers=workers)
    assert len(warm.entries) == args.records and not warm.skipped
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and ".cache" not in p.parts)
    ranked = sum(1 for e in warm.entries if "overall" in e.marks)
    print(
        f"cold build ({args.tsne} t-SNE, {args.aps} per-query APs, {workers} worker(s)): {cold.seconds:.1f} s "
        f"({cold.seconds / args.records:.2f} s per submission)"
    )
    print(
        f"warm build: {warm.seconds:.1f} s ({warm.seconds / args.records * 1000:.0f} ms per submission; "
        f"{ranked} rows ranked by the joint bootstrap); goal: at most 30 s for 200 x 4,000"
    )
    print(f"site: {size / 1e6:.1f} MB without the cache, {len(list((out / 's').glob('*.html')))} pages")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
