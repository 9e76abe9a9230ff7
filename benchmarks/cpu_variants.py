"""Ad-hoc check: the golden scores under other numpy SIMD and OpenBLAS kernel choices (not run by tests or CI).

    python benchmarks/cpu_variants.py                  # every variant below, each in a fresh process
    python benchmarks/cpu_variants.py --src OTHER/src  # the same for another checkout (e.g. before a change)

Each variant recomputes tests/test_golden.py's scores in a subprocess with one environment setting
(numpy's dispatched SIMD switched off, OpenBLAS forced onto another kernel family, one BLAS thread) and
prints whether they equal the golden file bit for bit, and the largest difference otherwise. OpenBLAS
variables are set here only: the evaluator's promise is that they make no difference, so tests never set them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_SIMD = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
VARIANTS = {
    "default": {},
    "numpy SIMD off": {"NPY_DISABLE_CPU_FEATURES": NO_SIMD},
    "OpenBLAS Prescott (SSE3)": {"OPENBLAS_CORETYPE": "Prescott"},
    "OpenBLAS Nehalem": {"OPENBLAS_CORETYPE": "Nehalem"},
    "OpenBLAS Sandybridge (AVX)": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "OpenBLAS Haswell (AVX2)": {"OPENBLAS_CORETYPE": "Haswell"},
    "one BLAS thread": {"OPENBLAS_NUM_THREADS": "1"},
    "numpy SIMD off + OpenBLAS Prescott": {"NPY_DISABLE_CPU_FEATURES": NO_SIMD, "OPENBLAS_CORETYPE": "Prescott"},
}
CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
import test_golden
print(json.dumps({{"tiers": test_golden.compute()["tiers"]}}))
"""


def largest_difference(a: dict, b: dict) -> float:
    worst = 0.0
    for tier in a:
        for key, x in a[tier].items():
            y = b[tier][key]
            if isinstance(x, float) and isinstance(y, float):
                worst = max(worst, abs(x - y))
            elif isinstance(x, list):
                worst = max([worst] + [abs(p - q) for p, q in zip(x, y)])
            elif x != y:
                return float("inf")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", type=Path, help="import repbench from this src folder instead of the installed one")
    args = parser.parse_args()
    golden = json.loads((ROOT / "tests" / "data" / "golden_scores.json").read_text())["tiers"]
    child = CHILD.format(tests=str(ROOT / "tests"))
    results = {}
    for name, env in VARIANTS.items():
        full = {**os.environ, **env}
        if args.src:
            full["PYTHONPATH"] = str(args.src.resolve())
        out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=full, cwd=ROOT)
        if out.returncode:
            print(f"{name:40s} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])["tiers"]
    base = results.get("default")
    for name, tiers in results.items():
        same_golden = (
            "equal to golden"
            if tiers == golden
            else (f"differs from golden by {largest_difference(golden, tiers):.1e}")
        )
        same_default = (
            ""
            if base is None or tiers == base
            else (f"; differs from default by {largest_difference(base, tiers):.1e}")
        )
        print(f"{name:40s} {same_golden}{same_default}")


if __name__ == "__main__":
    main()
