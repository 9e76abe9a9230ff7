"""Realistic, schema-valid submission records for tests, the benchmark and demos (random numbers, not results).

``make_submission`` returns a record whose scores look like the paper's (per-tier prevalence, mAP above it, a
95% interval, AMI with a spread, a precision-recall curve); with ``folder`` it also writes an embedding Parquet
next to the record (proteins = systematic ORFs of the reference proteome, vectors clustered by Huh
localization so a t-SNE map has structure) and records its sha256 as ``input.sha256``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import standards as standards_module
from ..files import file_sha256
from ..results import SCHEMA, write_json_atomic
from ..standards import TIERS


@lru_cache(maxsize=1)
def _standards():
    return standards_module.load()


PREVALENCE = {"go_cc": 0.058, "go_bp": 0.031, "kegg": 0.022, "complex": 0.004}


def _pr_curve(rng: np.random.Generator, ap: float, prevalence: float, points: int = 201) -> dict:
    recall = np.linspace(0, 1, points)
    start = min(0.95, ap * rng.uniform(2.5, 4.0) + prevalence)
    precision = prevalence + (start - prevalence) * np.exp(-recall * rng.uniform(4, 9))
    return {"recall": np.round(recall, 4).tolist(), "precision": np.round(precision, 4).tolist()}


def tier_scores(rng: np.random.Generator, tier: str, skill: float) -> dict:
    """One tier's block; ``skill`` in [0, 1] moves every score from chance towards good."""
    prevalence = PREVALENCE[tier] * rng.uniform(0.9, 1.1)
    ap = prevalence + skill * rng.uniform(0.04, 0.12)
    map_ = ap + skill * rng.uniform(0.05, 0.15)
    half = rng.uniform(0.004, 0.015)
    groups = {"go_cc": 378, "go_bp": 105, "kegg": 105, "complex": 571}[tier]
    proteins = {"go_cc": 2500, "go_bp": 3700, "kegg": 2000, "complex": 1750}[tier]
    pairs = proteins * (proteins - 1) // 2
    return {
        "proteins": proteins,
        "groups": groups,
        "pairs": pairs,
        "positive_pairs": int(pairs * prevalence),
        "prevalence": round(prevalence, 5),
        "ap": round(ap, 4),
        "f05": round(ap * rng.uniform(0.9, 1.3), 4),
        "map": round(map_, 4),
        "map_ci": [round(max(0.0, map_ - half), 4), round(min(1.0, map_ + half), 4)],
        "map_queries": proteins - 10,
        "ami": round(skill * rng.uniform(0.1, 0.3) + rng.uniform(0, 0.01), 4),
        "ami_sd": round(rng.uniform(0.002, 0.02), 4),
        "pr_curve": _pr_curve(rng, ap, prevalence),
    }


def write_embedding(path: Path, orfs: list[str], vectors: np.ndarray) -> str:
    """Write the protein table (protein: string, embedding: fixed-size list<float32>); return its sha256."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])
    pq.write_table(pa.table({"protein": pa.array(orfs, pa.string()), "embedding": column}), path)
    return file_sha256(path)


def clustered_vectors(rng: np.random.Generator, orfs: list[str], dimension: int, skill: float) -> np.ndarray:
    """(n, dimension) vectors: a centre per Huh localization class plus noise (less noise = more skill)."""
    from .localization import LOCALIZATION_CLASSES, huh_localizations, localization_classes

    classes = localization_classes(orfs, huh_localizations())
    centres = rng.normal(size=(len(LOCALIZATION_CLASSES) + 1, dimension)) * 3
    return centres[classes] + rng.normal(size=(len(orfs), dimension)) * (4.0 - 3.0 * skill)


def make_submission(
    rng: np.random.Generator,
    name: str,
    slug: str,
    *,
    dataset: str = "real",
    coverage: float = 0.97,
    reference: bool = False,
    skill: float | None = None,
    epochs: int = 0,
    folder: Path | None = None,
    embedding: bool = False,
    proteins: int | None = None,
    dimension: int = 32,
    description: str = "",
    embedding_rows: int | None = None,
) -> dict:
    """A schema-valid submission record (written to ``folder/<slug>.json`` when folder is given).

    ``embedding_rows`` writes only that many proteins to the embedding Parquet (small, fast t-SNE in tests)
    while the record keeps its coverage; by default the Parquet holds all ``proteins``.
    """
    standards = _standards()
    skill = float(rng.uniform(0.2, 0.9)) if skill is None else skill
    reference_size = len(standards.reference_proteome)
    n = proteins or int(round(coverage * reference_size))
    created = datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(hours=int(rng.integers(0, 600)))
    sha = hashlib.sha256(f"{slug}-{rng.integers(1 << 62)}".encode()).hexdigest()
    record = {
        "schema": SCHEMA,
        "created": created.isoformat(),
        "evaluator": {"version": "1.0.0"},
        "standards": standards.stamp(),
        "unofficial": False,
        "input": {
            "path": f"{slug}.parquet",
            "sha256": sha,
            "rows": n,
            "proteins": n,
            "dimension": dimension,
            "unknown_ids": [],
            "ambiguous_ids": [],
            "n_unknown": 0,
            "n_ambiguous": 0,
            "metadata": {
                "embedder": name.split()[0].lower(),
                "version": "0.1.0",
                "dataset": dataset,
                "data": "demo" if dataset == "synthetic" else "huh2003-images",
                "protocol": "quick",
                "seed": 0,
                "params": {"epochs": epochs or 10, "batch_size": 64},
            },
        },
        "dataset": dataset,
        "coverage": round(n / reference_size, 4),
        "reference_proteome": reference_size,
        "environment": {"python": "3.11.7", "repbench": "0.1.0"},
        "tiers": {t: tier_scores(rng, t, skill) for t in TIERS},
        "submission": {
            "name": name,
            "slug": slug,
            "description": description,
            "submitted": created.isoformat(),
            "reference": reference,
        },
    }
    if epochs:
        record["trajectory"] = [
            {
                "epoch": e,
                "logs": {"train_loss": round(2.0 / e, 4), "val_loss": round(2.2 / e, 4)},
                "tiers": {t: {"f05": round(record["tiers"][t]["f05"] * (1 - 0.6 * 0.7**e), 4)} for t in TIERS},
            }
            for e in range(1, epochs + 1)
        ]
    if folder is not None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if embedding:
            rows = min(n, embedding_rows or n)
            orfs = sorted(rng.choice(standards.reference_proteome, size=rows, replace=False).tolist())
            vectors = clustered_vectors(rng, orfs, dimension, skill)
            record["input"]["sha256"] = write_embedding(folder / f"{slug}.parquet", orfs, vectors)
            record["submission"]["embedding_file"] = f"{slug}.parquet"
        write_json_atomic(folder / f"{slug}.json", record)
    return record
