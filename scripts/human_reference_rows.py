#!/usr/bin/env python3
"""The human reference rows of the leaderboard (standards human-v1), from the real label tables the package ships.

    python scripts/human_reference_rows.py [--to leaderboard/submissions] [--tables-only DIR]

Writes three protein tables and submits each with ``repbench submit --standards human-v1 --reference``:

- ``hpa-localization``: Human Protein Atlas locations of the genes whose reliability is Enhanced or Supported,
  only the locations at those levels, one 0/1 column per location (``dataset: real``; keyed by Ensembl id);
- ``opencell-leiden``: the OpenCell cytoself Leiden cluster of each target, one-hot (``dataset: real``; keyed
  by UniProt accession): a real, image-derived but categorical representation;
- ``random-human``: Gaussian vectors (64 dims, seed 0) for the same genes as the HPA row (``dataset: real``
  like the yeast board's random row on WT2's proteins: a reference scored on the real rows' proteins, so it
  sits in their section; keyed by HGNC symbol), the floor to compare with.

The three keys show the id map at work (docs/standards.md). Sources and licences:
src/repbench/resources/localization/NOTICE. Deterministic: the same tables (and scores) on every run.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from repbench import standards as standards_mod
from repbench.table import write_table

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "src" / "repbench" / "resources" / "localization"
HPA = RESOURCES / "hpa_subcellular_location.tsv"
OPENCELL = RESOURCES / "opencell_leiden_clusters_res30_seed18.csv"
RELIABLE = ("Enhanced", "Supported")
RANDOM_DIM = 64


def one_hot(labels: dict[str, list[str]]) -> tuple[list[str], np.ndarray, list[str]]:
    """{id: [label]} -> ids (sorted), float32 (n, k) 0/1 matrix, the k labels (sorted)."""
    ids = sorted(labels)
    vocabulary = sorted({x for xs in labels.values() for x in xs})
    column = {x: j for j, x in enumerate(vocabulary)}
    matrix = np.zeros((len(ids), len(vocabulary)), dtype=np.float32)
    for i, key in enumerate(ids):
        matrix[i, [column[x] for x in labels[key]]] = 1.0
    return ids, matrix, vocabulary


def hpa_labels() -> dict[str, list[str]]:
    """Ensembl id -> the locations annotated at Enhanced or Supported reliability (genes with at least one)."""
    out = {}
    with open(HPA, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["Reliability"] not in RELIABLE:
                continue
            locations = sorted({x.strip() for level in RELIABLE for x in row[level].split(";") if x.strip()})
            if locations:
                out[row["Gene"]] = locations
    return out


def opencell_labels() -> dict[str, list[str]]:
    with open(OPENCELL, newline="") as handle:
        return {row["uniprot_id"]: [f"leiden-{int(row['leiden']):03d}"] for row in csv.DictReader(handle)}


def one_per_gene(labels: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """Keep the first id (sorted) of each human-v1 gene: two HPA Ensembl ids can name one gene (alternative
    haplotypes), which a table may not hold twice. Returns the kept labels and the dropped ids."""
    st = standards_mod.load("human-v1")
    ids = sorted(labels)
    seen: set[str] = set()
    kept, dropped = {}, []
    for key, gene in zip(ids, st.idmap.resolve(ids).orfs):
        if gene is not None and gene in seen:
            dropped.append(key)
            continue
        seen.add(gene)
        kept[key] = labels[key]
    return kept, dropped


def tables(folder: Path) -> list[tuple[Path, str, str]]:
    """Write the three tables into folder; (path, leaderboard name, description) each."""
    folder.mkdir(parents=True, exist_ok=True)
    hpa_kept, hpa_dropped = one_per_gene(hpa_labels())
    cell_kept, cell_dropped = one_per_gene(opencell_labels())
    hpa_ids, hpa, hpa_vocab = one_hot(hpa_kept)
    cell_ids, cell, clusters = one_hot(cell_kept)
    symbols = _symbols(hpa_ids)
    rows = []
    common = {"version": "1", "standards": "human-v1"}
    path = write_table(
        folder / "hpa.parquet",
        hpa_ids,
        hpa,
        {
            **common,
            "embedder": "hpa-localization",
            "dataset": "real",
            "params": {
                "reliability": list(RELIABLE),
                "locations": hpa_vocab,
                "same_gene_dropped": hpa_dropped,
                "source": "Human Protein Atlas subcellular_location.tsv (v19/v20 era), CC BY-SA",
            },
        },
    )
    rows.append(
        (
            path,
            "HPA localization (Enhanced + Supported)",
            f"Human Protein Atlas immunofluorescence locations of {len(hpa_ids):,} genes with Enhanced or Supported "
            f"reliability, one 0/1 column per location ({len(hpa_vocab)}): how much of each tier curated "
            "localization labels alone explain. Human Protein Atlas, proteinatlas.org (CC BY-SA).",
        )
    )
    path = write_table(
        folder / "opencell.parquet",
        cell_ids,
        cell,
        {
            **common,
            "embedder": "opencell-leiden",
            "dataset": "real",
            "params": {
                "clusters": len(clusters),
                "same_gene_dropped": cell_dropped,
                "source": "OpenCell 2021-08-23 Leiden clusters (res 30, seed 18) of "
                "cytoself encodings, github.com/czbiohub-sf/2021-opencell-figures",
            },
        },
    )
    rows.append(
        (
            path,
            "OpenCell cytoself Leiden clusters",
            f"The Leiden cluster ({len(clusters)} clusters) of the cytoself localization encoding of {len(cell_ids):,} "
            "OpenCell targets (HEK293T, endogenous tags; Cho et al. 2022, Kobayashi et al. 2022), one-hot: real and "
            "image-derived, but categorical.",
        )
    )
    vectors = np.random.default_rng(0).standard_normal((len(symbols), RANDOM_DIM)).astype(np.float32)
    path = write_table(
        folder / "random.parquet",
        symbols,
        vectors,
        {**common, "embedder": "random", "dataset": "real", "params": {"dim": RANDOM_DIM, "seed": 0}},
    )
    rows.append(
        (
            path,
            "random (human)",
            f"Gaussian vectors ({RANDOM_DIM} dims, seed 0) for the genes of the HPA row: the floor of every score.",
        )
    )
    return rows


def _symbols(ensembl_ids: list[str]) -> list[str]:
    """The HGNC symbols of the genes behind ensembl_ids that resolve in human-v1 (sorted, unique)."""
    st = standards_mod.load("human-v1")
    resolved = [p for p in st.idmap.resolve(ensembl_ids).orfs if p]
    frame = pd.read_csv(st.root / "idmap.tsv", sep="\t", dtype=str, keep_default_na=False)
    symbol = dict(zip(frame.loc[frame["kind"] == "symbol", "protein"], frame.loc[frame["kind"] == "symbol", "name"]))
    return sorted({symbol[p] for p in resolved if p in symbol})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--to", type=Path, default=ROOT / "leaderboard" / "submissions")
    parser.add_argument("--tables-only", type=Path, help="only write the tables into this folder")
    args = parser.parse_args()
    if args.tables_only:
        for path, name, _ in tables(args.tables_only):
            print(f"{name}: {path}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for path, name, description in tables(Path(tmp)):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "repbench",
                    "submit",
                    str(path),
                    "--standards",
                    "human-v1",
                    "--name",
                    name,
                    "--description",
                    description,
                    "--reference",
                    "--replace",
                    "--to",
                    str(args.to),
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
