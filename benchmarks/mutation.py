"""Mutation testing of the number-producing core with mutmut, and its score per module.

    .venv/bin/python benchmarks/mutation.py                 # fresh run on 2 worker processes, then the score
    .venv/bin/python benchmarks/mutation.py --jobs 4        # more workers
    .venv/bin/python benchmarks/mutation.py --module ids    # one module (repeatable): ids, metrics.ami, evaluate...
    .venv/bin/python benchmarks/mutation.py --resume --module table   # keep the other modules' results
    .venv/bin/python benchmarks/mutation.py --report        # only print the score of the last run

Modules are run one after the other (each module's figure is complete when it is printed), each timed.

What is mutated and which tests run is configured in ``[tool.mutmut]`` of pyproject.toml (the fast subset of
the suite that covers metrics/, the evaluator, ids, table and results). mutmut maps each test to the functions
it calls and runs, for each mutant, only the tests that reach the mutated function. A mutant is *killed* when a
test fails (or times out: a mutant that loops forever); *survived* when every test passes; *no tests* when no
selected test calls the function. Score = killed / total. Survivors and why each is equivalent or accepted:
docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
KILLED = {1, 3}  # a failing test; 3: pytest's internal error
TIMEOUT = {-24, 24, 152, 255, 36}
SURVIVED = {0}
#: the number-producing core, in the order it is run
EVALUATOR = "evaluator" if (ROOT / "src" / "repbench" / "evaluator.py").exists() else "evaluate"  # renamed in 1.1.0
MODULES = (
    "ids",
    "metrics.correlation",
    "metrics.average_precision",
    "metrics.f_beta",
    "metrics.query_ap",
    "metrics.ami",
    EVALUATOR,
    "results",
    "files",
    "table",
)
LOG = MUTANTS / "run.log"


def status(code) -> str:
    if code in KILLED:
        return "killed"
    if code in TIMEOUT:
        return "timeout"
    if code in SURVIVED:
        return "survived"
    if code in (5, 33):
        return "no tests"
    if code is None:
        return "not checked"
    return "other"


def module_of(key: str) -> str:
    """'repbench.metrics.ami.x_emi_terms__mutmut_3' -> 'repbench.metrics.ami'."""
    dotted = key.split(".x", 1)[0] if ".x" in key else key.rsplit(".", 1)[0]
    return dotted


def read_results() -> dict[str, object]:
    results = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        results.update(json.loads(meta.read_text())["exit_code_by_key"])
    return results


def report(seconds: float | None) -> dict:
    results = read_results()
    if not results:
        sys.exit("no mutmut results under mutants/: run without --report first")
    per_module: dict[str, Counter] = defaultdict(Counter)
    survivors = []
    for key, code in results.items():
        state = status(code)
        per_module[module_of(key)][state] += 1
        if state not in ("killed", "timeout", "not checked"):
            survivors.append((state, key))
    print(
        f"{'module':32} {'killed':>7} {'timeout':>7} {'survived':>8} {'no tests':>8} {'unrun':>6} {'total':>6} "
        f"{'score':>7}"
    )
    total = Counter()
    for module in sorted(per_module):
        c = per_module[module]
        n = sum(c.values())
        total.update(c)
        score = (c["killed"] + c["timeout"]) / n
        print(
            f"{module:32} {c['killed']:7d} {c['timeout']:7d} {c['survived']:8d} {c['no tests']:8d} "
            f"{c['not checked']:6d} {n:6d} {score:7.1%}"
        )
    n = sum(total.values())
    killed = total["killed"] + total["timeout"]
    print(
        f"{'all':32} {total['killed']:7d} {total['timeout']:7d} {total['survived']:8d} {total['no tests']:8d} "
        f"{total['not checked']:6d} {n:6d} {killed / n:7.1%}"
    )
    if total["not checked"]:
        print(
            f"warning: {total['not checked']} mutants were not run (an interrupted or partial run): the score "
            "counts them as not killed"
        )
    print(
        f"score: {killed} killed / {n} mutants = {killed / n:.1%} (goal >= 90%)"
        + (f"; mutmut run took {seconds:.0f} s wall clock" if seconds is not None else "")
    )
    if survivors:
        print(f"\n{len(survivors)} not killed (see them with: .venv/bin/mutmut show NAME):")
        for state, key in sorted(survivors, key=lambda s: s[1]):
            print(f"  {state:9} {key}")
    summary = {
        "killed": killed,
        "total": n,
        "score": killed / n,
        "seconds": seconds,
        "per_module": {m: dict(c) for m, c in per_module.items()},
        "not_killed": [k for _, k in survivors],
    }
    (MUTANTS / "score.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutmut worker processes (default 2)")
    parser.add_argument("--resume", action="store_true", help="keep mutants/ from the last run")
    parser.add_argument("--report", action="store_true", help="only print the score of the last run")
    parser.add_argument(
        "--module",
        action="append",
        default=None,
        help="module under repbench to mutate (repeatable; default: all of %s)" % ", ".join(MODULES),
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.report:
        report(None)
        return
    if not args.resume and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    mutmut = Path(sys.executable).with_name("mutmut")
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    started = time.perf_counter()
    MUTANTS.mkdir(exist_ok=True)
    for module in args.module or MODULES:
        begun = time.perf_counter()
        with open(LOG, "a") as log:
            done = subprocess.run(
                [str(mutmut), "run", "--max-children", str(args.jobs), f"repbench.{module}.*"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                check=False,
            )
        if done.returncode != 0:
            tail = LOG.read_text(errors="replace")[-3000:]
            sys.exit(f"mutmut run failed (exit {done.returncode}); the end of {LOG}:\n{tail}")
        print(f"mutated repbench.{module} in {time.perf_counter() - begun:.0f} s", flush=True)
    report(time.perf_counter() - started)


if __name__ == "__main__":
    main()
