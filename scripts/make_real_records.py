"""Make the leaderboard's real-data rows from the shipped Lu et al. (2018) per-protein features.

    .venv/bin/python scripts/make_real_records.py [--to leaderboard/submissions] [--only-tables DIR]

Reads ``data/lu2018-handfield/{WT2,RAP3}_averaged_features.txt`` (GPL-3.0, NOTICE beside them) and writes, for
each screen, a protein table (``protein`` = systematic ORF, ``embedding`` = the 50 features, standardised) and
its submission record (``dataset: real``, a model card saying how the vectors were made, ``labels: []``).
Then the reference rows on the same proteins as WT2: ``random`` (seeded Gaussian vectors, WT2's proteins and
dimension) and ``shuffled`` (WT2's vectors with the protein ids permuted), both made by the baselines plugin
exactly as ``repbench run --embedder random --option like=...`` would. The Huh et al. (2003)
localization-flag record is given its place: ``dataset: real``, an annotation row (``submission.annotation``).
And the synthetic demo records get their labels declared (DeepLoc: localization; inpainting and PIFiA: protein
identity; the others: none) and ``random`` / ``shuffled`` their data set (synthetic: they are made from the
DeepLoc demo table).

How the vectors are made (the model card says the same):
  * names: the first column ``ImageName`` (gene name, else ORF), URL-decoded (``ADE5%2C7`` -> ``ADE5,7``),
    mapped to systematic ORFs with the standards' identifier map. Two names are ambiguous aliases there:
    ``FEN1`` (YCR034W or YKL113C) and ``PPA1`` (YBR011C or YHR026W). The screens image the Huh et al. (2003)
    GFP collection, whose table names YCR034W FEN1 and YHR026W PPA1, and the other candidates (RAD27 =
    YKL113C, IPP1 = YBR011C) appear in the files under their own names: so FEN1 -> YCR034W, PPA1 -> YHR026W.
  * values: the published per-protein averages, each of the 50 columns z-scored over the screen's proteins
    (mean 0, standard deviation 1, ddof 0), stored as float32. Standardised, because the evaluator correlates
    protein vectors across features and the raw columns differ in scale by orders of magnitude: unscaled,
    a few large-valued features would decide every correlation.

Re-running rewrites the same records (``--replace``); every step is an atomic write.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "lu2018-handfield"
SCREENS = {
    "WT2": ("Lu 2018 WT2 morphology features", "wild-type screen WT2"),
    "RAP3": ("Lu 2018 RAP3 morphology features", "drug-condition screen RAP3"),
}
#: names the identifier map finds ambiguous, resolved by the GFP collection's own naming (see the docstring)
COLLECTION_NAMES = {"FEN1": "YCR034W", "PPA1": "YHR026W"}
LOCALIZATION_SLUG = "localization-huh-2003-flags"
#: the synthetic demo records (benchmarks/compare_embedders.py --submit): the labels each embedder trains with
DEMO_LABELS = {
    "deeploc": ["localization"],
    "inpainting": ["protein-identity"],
    "cellprofiler": [],
    "cellprofiler-pca": [],
    "random": [],
    "shuffled": [],
    "pifia": ["protein-identity"],
    # untrained networks (random weights) saw no labels
    "deeploc-untrained": [],
    "inpainting-untrained": [],
    "pifia-untrained": [],
}


def read_screen(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """(names as published (n,), feature names (50,), values float64 (n, 50)) of one averaged-features file."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t"))
    header, body = rows[0], [r for r in rows[1:] if r]
    return [r[0] for r in body], header[1:], np.array([[float(v) for v in r[1:]] for r in body])


def to_orfs(names: list[str], standards) -> tuple[list[str], np.ndarray, dict, list[str]]:
    """(ORFs, row indices kept, {name: ORF} for names that are not already an ORF, dropped names)."""
    resolved = standards.idmap.resolve(names)
    orfs, keep, renamed, dropped = [], [], {}, []
    for i, (name, orf) in enumerate(zip(names, resolved.orfs)):
        orf = orf or COLLECTION_NAMES.get(name.upper())
        if orf is None or orf in orfs:
            dropped.append(name)
            continue
        orfs.append(orf)
        keep.append(i)
        if orf != name:
            renamed[name] = orf
    return orfs, np.array(keep), renamed, dropped


def standardise(values: np.ndarray) -> np.ndarray:
    """(n, d) -> (n, d): each column minus its mean, over its standard deviation (ddof 0)."""
    sd = values.std(axis=0)
    return (values - values.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def model_card(screen: str, what: str, n_file: int, n_kept: int, dropped: list[str], sha: str) -> str:
    return (
        f"Real per-protein image features of the {what} of Lu et al. (2018, eLife 7:e31872), from "
        f"github.com/alexxijielu/protein_change_profiles (GPL-3.0), file examples/{screen}_averaged_features.txt "
        f"(sha256 {sha}). Single-cell features of the Budding Yeast Morphologist pipeline (Handfield et al. 2013) "
        "averaged per protein and per cell-stage bin: 5 feature families (SEF, MCT, EDG, CEN, NEC) x 10 bins "
        "(bud B0-B4, mother M0-M4) = 50 numbers. Made by scripts/make_real_records.py: names URL-decoded and "
        "mapped to systematic ORFs (FEN1 -> YCR034W and PPA1 -> YHR026W, as the GFP collection names them); "
        "each of the 50 columns z-scored over the screen's proteins (mean 0, sd 1, ddof 0); float32. "
        f"{n_kept} of {n_file} proteins kept" + (f" (dropped: {', '.join(dropped)})" if dropped else "") + ". "
        "Hand-engineered morphology features, not a learned embedding, trained with no labels."
    )


def write_screen_table(screen: str, out: Path, standards) -> tuple[Path, str]:
    from repbench.table import write_table

    source = DATA / f"{screen}_averaged_features.txt"
    names, features, values = read_screen(source)
    orfs, keep, renamed, dropped = to_orfs(names, standards)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    card = model_card(screen, SCREENS[screen][1], len(names), len(orfs), dropped, sha)
    metadata = {
        "embedder": "handfield-features",
        "version": "lu2018",
        "dataset": "real",
        "labels": [],
        "data": f"Lu et al. 2018 screen {screen} (Boone-Andrews ORF-GFP collection)",
        "protocol": "published",
        "params": {
            "source": f"data/lu2018-handfield/{source.name}",
            "source_sha256": sha,
            "features": features,
            "standardised": "z-score per feature over the screen's proteins (ddof 0)",
            "renamed": renamed,
            "dropped": dropped,
        },
    }
    path = write_table(out / f"lu2018-{screen.lower()}.parquet", orfs, standardise(values[keep]), metadata)
    return path, card


def run_baseline(embedder: str, option: str, out: Path) -> Path:
    """``repbench run --embedder random|shuffled`` into ``out``: the table it wrote."""
    command = [
        sys.executable,
        "-m",
        "repbench",
        "-q",
        "run",
        "--embedder",
        embedder,
        "--option",
        option,
        "--out",
        str(out),
        "--json",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{embedder} failed ({done.returncode}): {done.stderr[-1500:]}")
    return out / "embeddings.parquet"


def submit(table: Path, name: str, description: str, to: Path, reference: bool) -> Path:
    command = [
        sys.executable,
        "-m",
        "repbench",
        "-q",
        "submit",
        str(table),
        "--name",
        name,
        "--description",
        description,
        "--to",
        str(to),
        "--replace",
        "--json",
    ]
    if reference:
        command.append("--reference")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"submit {name} failed ({done.returncode}): {done.stderr[-1500:]}")
    return Path(json.loads(done.stdout)["record"])


def amend_demo_records(to: Path) -> None:
    """The demo records say their labels; random and shuffled ones, made without cells, are synthetic too
    (their vectors come from the DeepLoc demo table: the synthetic proteome)."""
    from repbench.leaderboard.records import amend_record

    for embedder, labels in DEMO_LABELS.items():
        path = to / f"{embedder}-synthetic-demo.json"
        if path.is_file():
            amend_record(path, dataset="synthetic", labels=labels)
            print(f"amended {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--to", type=Path, default=ROOT / "leaderboard" / "submissions")
    parser.add_argument("--demo-only", action="store_true", help="only amend the synthetic demo records")
    args = parser.parse_args()
    amend_demo_records(args.to)
    if args.demo_only:
        return

    from repbench import standards as standards_module
    from repbench.leaderboard.records import amend_record

    st = standards_module.load()
    with tempfile.TemporaryDirectory(prefix="real-records-") as tmp:
        work = Path(tmp)
        tables = {}
        for screen, (name, what) in SCREENS.items():
            table, card = write_screen_table(screen, work, st)
            tables[screen] = table
            record = submit(
                table,
                name,
                f"The published Handfield morphology features of the {what} of Lu et al. "
                "(2018), standardised: real images, no learned embedding.",
                args.to,
                reference=False,
            )
            amend_record(record, dataset="real", labels=[], model_card=card)
            print(f"wrote {record.relative_to(ROOT) if record.is_relative_to(ROOT) else record}")
        wt2 = tables["WT2"]
        for embedder, option, name, card in (
            (
                "random",
                f"like={wt2}",
                "random (WT2 proteins)",
                "Seeded Gaussian vectors (seed 0) for exactly the proteins of the WT2 row, with its dimension (50): "
                "made by the baselines plugin, repbench run --embedder random --option like=<the WT2 table>.",
            ),
            (
                "shuffled",
                f"table={wt2}",
                "shuffled (WT2 features)",
                "The WT2 row's vectors with their protein ids permuted (seed 0): same values, no biology. Made by the "
                "baselines plugin, repbench run --embedder shuffled --option table=<the WT2 table>.",
            ),
        ):
            table = run_baseline(embedder, option, work / embedder)
            record = submit(table, name, card, args.to, reference=True)
            amend_record(record, dataset="real", labels=[], model_card=card)
            print(f"wrote {record}")
    localization = args.to / f"{LOCALIZATION_SLUG}.json"
    if localization.is_file():
        amend_record(
            localization,
            dataset="real",
            labels=["localization"],
            annotation=True,
            model_card=(
                "Not an image embedding: each protein's 23 Huh et al. (2003) YeastGFP localization flags as a 0/1 "
                "vector (4,151 proteins with at least one flag), a real annotation made by people looking at the "
                "images. It is what the localization labels alone explain, the ceiling of a model trained to "
                "predict them."
            ),
        )
        print(f"amended {localization}")


if __name__ == "__main__":
    main()
