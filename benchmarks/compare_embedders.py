"""Run every embedder and reference baseline on one data set and write the comparison table.

    python benchmarks/compare_embedders.py                 # default synthetic data, quick protocols
    python benchmarks/compare_embedders.py --readme        # also replace the table in README.md
    python benchmarks/compare_embedders.py --submit        # also write leaderboard records (reference rows marked)

The table is generated from the result records, never typed. `random` and `shuffled` are built from the
DeepLoc table (same proteins and dimension; ids permuted), so they are its negative controls.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("go_cc", "go_bp", "kegg", "complex")
BEGIN, END = "<!-- comparison:begin -->", "<!-- comparison:end -->"


def plan(data: str) -> list[tuple[str, str, list[str], bool]]:
    """(label, embedder, options, reference) in the order they run."""
    deeploc = f"runs/compare/deeploc/embeddings.parquet"
    return [
        ("deeploc", "deeploc", [], False),
        ("inpainting", "inpainting", [], False),
        ("cellprofiler", "cellprofiler", [], False),
        ("cellprofiler-pca", "cellprofiler-pca", [], False),
        ("localization", "localization", [], True),
        ("random", "random", [f"like={deeploc}"], True),
        ("shuffled", "shuffled", [f"table={deeploc}"], True),
    ]


def run(label: str, embedder: str, options: list[str], data: str) -> tuple[dict, float]:
    out = ROOT / "runs" / "compare" / label
    command = [sys.executable, "-c", "from repbench.cli.main import main; main()", "-q", "run", "--embedder", embedder,
               "--data", data, "--out", str(out), "--json"]
    for option in options:
        command += ["--option", option]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{label} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), seconds


def markdown(rows: list[tuple[str, dict, float, bool]], data: str) -> str:
    head = "| embedder | seconds | " + " | ".join(f"{t} AMI | {t} mAP | {t} F0.5" for t in TIERS) + " |"
    rule = "| --- | ---: | " + " | ".join("---: | ---: | ---:" for _ in TIERS) + " |"
    lines = [head, rule]
    chance = rows[0][1]["tiers"]
    lines.append("| *chance (prevalence)* | | " + " | ".join(
        f"0 | {chance[t]['prevalence']:.3f} | {chance[t]['prevalence']:.3f}" for t in TIERS) + " |")
    for label, result, seconds, reference in rows:
        cells = []
        for t in TIERS:
            s = result["tiers"][t]
            cells.append("- | - | -" if s.get("skipped") else f"{s['ami']:.3f} | {s['map']:.3f} | {s['f05']:.3f}")
        name = f"{label} *(reference)*" if reference else label
        lines.append(f"| {name} | {seconds:.0f} | " + " | ".join(cells) + " |")
    proteins = rows[0][1]["input"]["proteins"]
    others = [f"`{label}` is scored over its own {r['input']['proteins']:,} proteins (prevalence " +
              ", ".join(f"{t} {r['tiers'][t]['prevalence']:.3f}" for t in TIERS) + ")"
              for label, r, _, _ in rows if r["input"]["proteins"] != proteins]
    note = (f"\nData: `{data}` ({rows[0][1]['dataset']}, {proteins} proteins), quick protocols, seed 0, measured on a "
            f"2-core CPU by `benchmarks/compare_embedders.py`. Chance for mAP and F0.5 is roughly the prevalence; "
            f"for AMI it is 0." + ("".join(f" {o}." for o in others)))
    return "\n".join(lines) + "\n" + note + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="demo")
    parser.add_argument("--readme", action="store_true")
    parser.add_argument("--submit", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="only remake the table from runs/compare (no runs)")
    args = parser.parse_args()
    rows = []
    timings_path = ROOT / "runs" / "compare" / "timings.json"
    timings = json.loads(timings_path.read_text()) if args.rebuild else {}
    for label, embedder, options, reference in plan(args.data):
        if args.rebuild:
            result = json.loads((ROOT / "runs" / "compare" / label / "result.json").read_text())
            rows.append((label, result, timings[label], reference))
            continue
        result, seconds = run(label, embedder, options, args.data)
        timings[label] = seconds
        timings_path.write_text(json.dumps(timings))
        rows.append((label, result, seconds, reference))
        print(f"{label:18s} {seconds:6.0f} s  " + "  ".join(
            f"{t}: map {result['tiers'][t]['map']:.3f}" for t in TIERS if not result["tiers"][t].get("skipped")), flush=True)
        if args.submit:
            table = ROOT / "runs" / "compare" / label / "embeddings.parquet"
            command = [sys.executable, "-c", "from repbench.cli.main import main; main()", "-q", "submit", str(table),
                       "--name", f"{label} (synthetic demo)" if embedder != "localization" else "localization (Huh 2003 flags)", "--replace",
                       "--description", f"repbench run --embedder {label} on the default synthetic data, quick protocol"]
            subprocess.run(command + (["--reference"] if reference else []), cwd=ROOT, check=True, capture_output=True)
    text = markdown(rows, args.data)
    print(text)
    (ROOT / "runs" / "compare" / "comparison.md").write_text(text)
    if args.readme:
        readme = ROOT / "README.md"
        body = readme.read_text()
        block = f"{BEGIN}\n{text}{END}"
        body = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, body, flags=re.S) if BEGIN in body else body + "\n" + block + "\n"
        readme.write_text(body)


if __name__ == "__main__":
    main()
