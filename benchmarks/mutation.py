"""Mutation testing of the number-producing core with mutmut, and its score per module.

    .venv/bin/python benchmarks/mutation.py                 # fresh run on 2 worker processes, then the score
    .venv/bin/python benchmarks/mutation.py --jobs 4        # more workers
    .venv/bin/python benchmarks/mutation.py --module ids    # one module (repeatable): ids, metrics.ami, evaluator...
    .venv/bin/python benchmarks/mutation.py --resume --module table   # keep the other modules' results
    .venv/bin/python benchmarks/mutation.py --report        # only print the score of the last run
    .venv/bin/python benchmarks/mutation.py --survivors DIR # and write each module's survivors with diffs

All modules go to one mutmut invocation (each invocation first lists and runs the whole test subset).

What is mutated and which tests run is configured in ``[tool.mutmut]`` of pyproject.toml (the fast subset of
the suite that covers metrics/, the evaluator, ids, table and results). mutmut maps each test to the functions
it calls and runs, for each mutant, only the tests that reach the mutated function. A mutant is *killed* when a
test fails (or times out: a mutant that loops forever); *survived* when every test passes; *no tests* when no
selected test calls the function. Score = killed / total over the core (files is reported beside it).

Every mutant not killed must be listed, with the reason it is equivalent, in docs/mutation-survivors.md; the
report names those that are not (and listed ones that are killed now). A run exits 1 when the core's score is
below 90% or a survivor is not listed. The score and its date: docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
#: the number-producing core the issue's goal is about (mutmut name patterns under ``repbench.``), in run order
CORE = ("ids", "metrics", "evaluator", "results", "table")
#: mutated and reported too, outside the goal: the atomic write that results and table use
EXTRA = ("files",)
MODULES = CORE + EXTRA
LOG = MUTANTS / "run.log"
#: every mutant that survives, with the reason it is equivalent (or otherwise accepted)
CLASSIFIED = ROOT / "docs" / "mutation-survivors.md"
GOAL = 0.90


def classified() -> set[str]:
    """The mutant names listed in docs/mutation-survivors.md (each in backticks, at the start of a bullet)."""
    if not CLASSIFIED.exists():
        return set()
    return set(re.findall(r"^- `(repbench\.[^`]+__mutmut_\d+)`", CLASSIFIED.read_text(), flags=re.MULTILINE))


def status(code) -> str:
    """mutmut's own reading of a mutant's exit code: killed, timeout, survived, no tests, not checked, ..."""
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[code]


def module_of(key: str) -> str:
    """'repbench.metrics.ami.x_emi_terms__mutmut_3' -> 'repbench.metrics.ami'."""
    dotted = key.split(".x", 1)[0] if ".x" in key else key.rsplit(".", 1)[0]
    return dotted


def in_core(module: str) -> bool:
    """'repbench.metrics.ami' -> True: a module of CORE or under one of its packages."""
    return any(module == f"repbench.{m}" or module.startswith(f"repbench.{m}.") for m in CORE)


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
    core = Counter()
    for module, c in per_module.items():
        if in_core(module):
            core.update(c)
    for name, c in (("core (the goal)", core), ("all", total)):
        n = sum(c.values())
        print(
            f"{name:32} {c['killed']:7d} {c['timeout']:7d} {c['survived']:8d} {c['no tests']:8d} "
            f"{c['not checked']:6d} {n:6d} {(c['killed'] + c['timeout']) / max(n, 1):7.1%}"
        )
    n = sum(core.values())
    killed = core["killed"] + core["timeout"]
    if total["not checked"]:
        print(
            f"warning: {total['not checked']} mutants were not run (an interrupted or partial run): the score "
            "counts them as not killed"
        )
    print(
        f"score of the core ({', '.join(CORE)}): {killed} killed / {n} mutants = {killed / max(n, 1):.1%} "
        "(goal >= 90%)" + (f"; mutmut run took {seconds:.0f} s wall clock" if seconds is not None else "")
    )
    listed = classified()
    unclassified = sorted(key for _, key in survivors if key not in listed)
    stale = sorted(key for key in listed if key in results and status(results[key]) in ("killed", "timeout"))
    if survivors:
        print(
            f"\n{len(survivors)} not killed, {len(survivors) - len(unclassified)} of them classified in "
            f"{CLASSIFIED.name}"
        )
    if unclassified:
        print(f"{len(unclassified)} not classified (see one with: .venv/bin/python -m mutmut show NAME):")
        for key in unclassified:
            print(f"  {status(results[key]):9} {key}")
    if stale:
        print(f"{len(stale)} listed in {CLASSIFIED.name} but killed now (remove them there):")
        for key in stale:
            print(f"  {key}")
    summary = {
        "core": list(CORE),
        "killed": killed,
        "total": n,
        "score": killed / max(n, 1),
        "seconds": seconds,
        "per_module": {m: dict(c) for m, c in per_module.items()},
        "not_killed": [k for _, k in survivors],
        "unclassified": unclassified,
    }
    (MUTANTS / "score.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def goal_missed(summary: dict) -> int:
    """1 when the core's score is below the goal or a survivor is not classified, else 0 (the exit status)."""
    return int(summary["score"] < GOAL or bool(summary["unclassified"]))


def write_survivors(folder: Path) -> None:
    """One file per module in ``folder``: every mutant not killed, its status and its diff (``mutmut show``).

    The folder's earlier ``*.txt`` files are removed first (a module with no survivors left gets no file)."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.file_utils import walk_mutatable_files

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    by_module: dict[str, list[str]] = defaultdict(list)
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for key, code in sorted(data.exit_code_by_key.items()):
            state = status(code)
            if state in ("killed", "timeout", "not checked"):
                continue
            by_module[module_of(key)].append(f"# {key}: {state}\n{get_diff_for_mutant(key, path=path)}\n")
    for module, entries in sorted(by_module.items()):
        (folder / f"{module.removeprefix('repbench.')}.txt").write_text("\n".join(entries))
        print(f"{len(entries):5d} not killed in {module}: {folder / module.removeprefix('repbench.')}.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutmut worker processes (default 2)")
    parser.add_argument("--resume", action="store_true", help="keep mutants/ from the last run")
    parser.add_argument("--report", action="store_true", help="only print the score of the last run")
    parser.add_argument("--survivors", type=Path, help="write each module's not-killed mutants and diffs here")
    parser.add_argument(
        "--module",
        action="append",
        default=None,
        help="module under repbench to mutate (repeatable; default: all of %s)" % ", ".join(MODULES),
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.report or args.survivors:
        summary = report(None)
        if args.survivors:
            write_survivors(args.survivors.resolve())
        sys.exit(goal_missed(summary))
    if not args.resume and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    started = time.perf_counter()
    MUTANTS.mkdir(exist_ok=True)
    modules = args.module or MODULES
    # one mutmut invocation for all modules: each invocation lists and runs the whole test subset first
    with open(LOG, "a") as log:
        done = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs)]
            + [f"repbench.{m}.*" for m in modules],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        tail = LOG.read_text(errors="replace")[-3000:]
        sys.exit(f"mutmut run failed (exit {done.returncode}); the end of {LOG}:\n{tail}")
    sys.exit(goal_missed(report(time.perf_counter() - started)))


if __name__ == "__main__":
    main()
