"""Run every embedder and reference baseline on one data set and write the comparison table.

    python benchmarks/compare_embedders.py                 # default synthetic data, quick protocols (~45 min, 2 cores)
    python benchmarks/compare_embedders.py --readme        # also replace the table in README.md
    python benchmarks/compare_embedders.py --submit        # also write leaderboard records (reference rows marked)
    python benchmarks/compare_embedders.py --from-records --readme        # no training: the records' tables
    python benchmarks/compare_embedders.py --only pifia,pifia-untrained --submit --readme   # rerun two rows

The table is generated from the result records, never typed. `random` and `shuffled` are built from the
DeepLoc table (same proteins and dimension; ids permuted), so they are its negative controls. Each learned
embedder has an untrained control (`--option untrained=true`: the same network and seed, no training step), a
reference row beside it; a second table says per tier whether training made a significant difference (paired
bootstrap over the query proteins of the per-query APs whose mean is mAP, `repbench.verdicts.paired_test`,
Holm-adjusted over the four tiers of each embedder).

Reusing tables: every submission record in `leaderboard/submissions/` keeps its table beside it. With
`--from-records` nothing is trained: each row's record is used as it is, or, when it was made by another
evaluator version, its table is evaluated again by the installed evaluator (seconds; `--submit` then rewrites
the record, keeping its trajectory); the run time is the one measured when the row last ran
(`benchmarks/compare_embedders.timings.json`).
`--only` reruns the rows named and reuses the records for all others.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "leaderboard" / "submissions"
TIMINGS = Path(__file__).with_suffix(".timings.json")
TIERS = ("go_cc", "go_bp", "kegg", "complex")
BEGIN, END = "<!-- comparison:begin -->", "<!-- comparison:end -->"
UNTRAINED = "-untrained"
LEVEL = 0.05  # Holm-adjusted p below this: training made a significant difference on the tier


def plan(data: str) -> list[tuple[str, str, list[str], bool]]:
    """(label, embedder, options, reference) in the order they run; each learned embedder's untrained control
    follows it."""
    deeploc = "runs/compare/deeploc/embeddings.parquet"
    learned = [(name, name, [], False) for name in ("deeploc", "inpainting", "pifia")]
    rows = []
    for label, embedder, options, reference in learned:
        rows += [(label, embedder, options, reference), (label + UNTRAINED, embedder, ["untrained=true"], True)]
    return rows + [
        ("cellprofiler", "cellprofiler", [], False),
        ("cellprofiler-pca", "cellprofiler-pca", [], False),
        ("localization", "localization", [], True),
        ("random", "random", [f"like={deeploc}"], True),
        ("shuffled", "shuffled", [f"table={deeploc}"], True),
    ]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from repbench.cli.main import main; main()", "-q", *args]


def run(label: str, embedder: str, options: list[str], data: str) -> tuple[dict, float, Path]:
    out = ROOT / "runs" / "compare" / label
    command = _cli("run", "--embedder", embedder, "--data", data, "--out", str(out), "--json")
    for option in options:
        command += ["--option", option]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{label} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), seconds, out / "embeddings.parquet"


def record_name(label: str) -> str:
    return "localization (Huh 2003 flags)" if label == "localization" else f"{label} (synthetic demo)"


def record_path(label: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", record_name(label).lower()).strip("-")
    return SUBMISSIONS / f"{slug}.json"


def from_record(label: str) -> tuple[dict, Path]:
    """The row's record and its table (no training). A record of another evaluator version is re-scored: its
    table is evaluated again by the installed evaluator (seconds, in this process)."""
    import repbench

    path = record_path(label)
    if not path.is_file():
        raise SystemExit(f"{label}: no record {path.relative_to(ROOT)}; run the row first (--only {label} --submit)")
    record = json.loads(path.read_text())
    table = path.parent / record["submission"]["embedding_file"]
    if record["evaluator"]["version"] == repbench.EVALUATOR_VERSION:
        return record, table
    return {**repbench.evaluate(table).to_dict(), "trajectory": record.get("trajectory"), "stale": True}, table


def submit(label: str, embedder: str, table: Path, reference: bool, trajectory: list | None) -> None:
    command = _cli(
        "submit",
        str(table),
        "--name",
        record_name(label),
        "--replace",
        "--dataset",
        "synthetic",
        "--description",
        f"repbench run --embedder {embedder}"
        + (" --option untrained=true" if label.endswith(UNTRAINED) else "")
        + " on the default synthetic data, quick protocol",
    )
    with tempfile.TemporaryDirectory() as temp:
        if trajectory:  # a record's table has no trajectory.json beside it: carry the old record's along
            steps = Path(temp) / "trajectory.json"
            steps.write_text(json.dumps(trajectory))
            command += ["--trajectory", str(steps)]
        subprocess.run(command + (["--reference"] if reference else []), cwd=ROOT, check=True, capture_output=True)


def training_verdicts(tables: dict[str, Path]) -> dict[str, dict[str, dict]]:
    """Per learned embedder and tier: trained minus untrained mAP, its paired-bootstrap interval and p, Holm-adjusted
    over the four tiers."""
    from repbench import standards as standards_mod
    from repbench.verdicts import holm, paired_test, query_aps

    standards = standards_mod.load()
    verdicts = {}
    for label in [t[: -len(UNTRAINED)] for t in tables if t.endswith(UNTRAINED)]:
        if label not in tables:
            continue
        trained, untrained = query_aps(tables[label], standards), query_aps(tables[label + UNTRAINED], standards)
        tests = {tier: paired_test(trained[tier], untrained[tier]) for tier in TIERS}
        adjusted = holm([tests[tier].p for tier in TIERS])
        verdicts[label] = {
            tier: {"difference": tests[tier].difference, "ci": tests[tier].ci, "p_holm": float(p)}
            for tier, p in zip(TIERS, adjusted)
        }
    return verdicts


def verdict_markdown(verdicts: dict[str, dict[str, dict]]) -> str:
    lines = [
        "",
        "Did training make a significant difference? Trained minus untrained mAP with its 95% paired-"
        "bootstrap interval over the query proteins; **yes** where the Holm-adjusted p (four tiers per embedder) "
        "is below "
        f"{LEVEL}.",
        "",
        "| embedder | " + " | ".join(TIERS) + " |",
        "| --- | " + " | ".join("---" for _ in TIERS) + " |",
    ]
    for label, tiers in verdicts.items():
        cells = []
        for tier in TIERS:
            v = tiers[tier]
            answer = "**yes**" if v["p_holm"] < LEVEL else "no"
            low, high = v["ci"]
            cells.append(f"{answer}: {v['difference']:+.3f} [{low:+.3f}, {high:+.3f}], p {v['p_holm']:.2g}")
        lines.append(f"| {label} vs {label}{UNTRAINED} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(rows: list[tuple[str, dict, float, bool]], data: str, timing_note: str = "") -> str:
    head = "| embedder | seconds | " + " | ".join(f"{t} AMI | {t} mAP | {t} F0.5" for t in TIERS) + " |"
    rule = "| --- | ---: | " + " | ".join("---: | ---: | ---:" for _ in TIERS) + " |"
    lines = [head, rule]
    chance = rows[0][1]["tiers"]
    lines.append(
        "| *chance (prevalence)* | | "
        + " | ".join(f"0 | {chance[t]['prevalence']:.3f} | {chance[t]['prevalence']:.3f}" for t in TIERS)
        + " |"
    )
    for label, result, seconds, reference in rows:
        cells = []
        for t in TIERS:
            s = result["tiers"][t]
            cells.append("- | - | -" if s.get("skipped") else f"{s['ami']:.3f} | {s['map']:.3f} | {s['f05']:.3f}")
        name = f"{label} *(reference)*" if reference else label
        lines.append(f"| {name} | {seconds:.0f} | " + " | ".join(cells) + " |")
    proteins = rows[0][1]["input"]["proteins"]
    others = [
        f"`{label}` is scored over its own {r['input']['proteins']:,} proteins (prevalence "
        + ", ".join(f"{t} {r['tiers'][t]['prevalence']:.3f}" for t in TIERS)
        + ")"
        for label, r, _, _ in rows
        if r["input"]["proteins"] != proteins
    ]
    note = (
        f"\nData: `{data}` ({rows[0][1]['dataset']}, {proteins} proteins), quick protocols, seed 0, measured on a "
        f"2-core CPU by `benchmarks/compare_embedders.py`. `*-untrained` rows: the same network and seed with no "
        f"training step (`--option untrained=true`). Chance for mAP and F0.5 is roughly the prevalence; "
        f"for AMI it is 0." + ("".join(f" {o}." for o in others)) + (f" {timing_note}" if timing_note else "")
    )
    return "\n".join(lines) + "\n" + note + "\n" + compute_note(rows)


def compute_note(rows: list[tuple[str, dict, float, bool]]) -> str:
    """The line under the table on what the torch embedders computed in (their scores depend on it)."""
    kinds: dict[tuple[str, str, str], list[str]] = {}
    for label, result, _, _ in rows:
        params = result["input"]["metadata"].get("params") or {}
        if "precision" in params:
            key = (params["precision"], params.get("precision_chosen_by", "auto"), params.get("cpu", "not recorded"))
            kinds.setdefault(key, []).append(f"`{label}`")
    if not kinds:
        return ""
    said = "; ".join(
        f"{', '.join(labels)} in {precision} ({'chosen automatically' if chosen == 'auto' else chosen}) "
        f"on a CPU of kind {cpu}"
        for (precision, chosen, cpu), labels in kinds.items()
    )
    return (
        f"\nPrecision: {said}. On CPUs with native bf16 (AMX, AVX-512 BF16) the automatic choice is bf16, and "
        "the torch embedders' scores differ in the second or third decimal; `-o precision=fp32` gives these "
        "numbers' precision ([docs/deeploc.md](docs/deeploc.md#reproducible-across-cpus-and-precisions)).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="demo")
    parser.add_argument("--readme", action="store_true")
    parser.add_argument("--submit", action="store_true")
    parser.add_argument(
        "--from-records",
        action="store_true",
        help="run nothing: every row from its record's table in leaderboard/submissions",
    )
    parser.add_argument("--only", default=None, help="comma-separated labels to run; the other rows from their records")
    args = parser.parse_args()
    labels = [p[0] for p in plan(args.data)]
    if args.from_records:
        chosen = set()
    elif args.only is not None:
        chosen = set(filter(None, args.only.split(",")))
        if chosen - set(labels):
            unknown = ", ".join(sorted(chosen - set(labels)))
            raise SystemExit(f"--only: unknown rows {unknown}; rows: {', '.join(labels)}")
    else:
        chosen = set(labels)
    saved = json.loads(TIMINGS.read_text()) if TIMINGS.is_file() else {}
    timings, timing_note = saved.get("seconds", {}), saved.get("note", "")  # note: how loaded the machine was
    rows, tables = [], {}
    for label, embedder, options, reference in plan(args.data):
        if label not in chosen:
            result, table = from_record(label)
            if args.submit and result.get("stale"):  # a record of an older evaluator: write it again
                submit(label, embedder, table, reference, result.get("trajectory"))
            seconds = timings.get(label, float("nan"))
        else:
            result, seconds, table = run(label, embedder, options, args.data)
            timings[label] = round(seconds, 1)
            TIMINGS.write_text(json.dumps({"seconds": timings, "note": timing_note}, indent=1, sort_keys=True) + "\n")
            if args.submit:
                submit(label, embedder, table, reference, None)  # the run folder's trajectory.json goes along
        rows.append((label, result, seconds, reference))
        tables[label] = table
        print(
            f"{label:22s} {seconds:6.0f} s  "
            + "  ".join(
                f"{t}: map {result['tiers'][t]['map']:.3f}" for t in TIERS if not result["tiers"][t].get("skipped")
            ),
            file=sys.stderr,
            flush=True,
        )
    text = markdown(rows, args.data, timing_note) + verdict_markdown(training_verdicts(tables))
    print(text)
    (ROOT / "runs" / "compare").mkdir(parents=True, exist_ok=True)
    (ROOT / "runs" / "compare" / "comparison.md").write_text(text)
    if args.readme:
        readme = ROOT / "README.md"
        body = readme.read_text()
        block = f"{BEGIN}\n{text}{END}"
        body = (
            re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, body, flags=re.S)
            if BEGIN in body
            else body + "\n" + block + "\n"
        )
        readme.write_text(body)


if __name__ == "__main__":
    main()
