"""Per-query average precision of a table, computed once and cached (the numbers whose mean is ``map``).

Cache: a JSON file per table at ``<cache_dir>/query-aps/<evaluator version>/<manifest sha256[:16]>/<table
sha256>.json``; ``cache_dir`` defaults to ``$REPBENCH_CACHE``, else ``~/.cache/repbench``. The key is the
table's sha256, the standards manifest's sha256 and the evaluator version: a new table, new standards or a new
evaluator never reads an old entry. Entries are written atomically (``results.write_json_atomic``); JSON floats
round-trip exactly. An in-process dict holds the entries read or computed in this process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .. import EVALUATOR_VERSION, results
from ..evaluator import DotProducts, _membership, check_tiers
from ..metrics.correlation import unit_vectors_fixed
from ..metrics.query_ap import MAX_BLOCK_ROWS, query_average_precision
from ..standards import Standards
from ..table import ProteinTable, read_table

_MEMORY: dict[tuple[str, str, str], dict[str, pd.Series]] = {}


def cache_root(cache_dir: str | Path | None = None) -> Path:
    base = cache_dir or os.environ.get("REPBENCH_CACHE") or Path.home() / ".cache" / "repbench"
    return Path(base) / "query-aps"


def cache_path(table_sha256: str, standards: Standards, cache_dir: str | Path | None = None) -> Path:
    return cache_root(cache_dir) / EVALUATOR_VERSION / standards.manifest_sha256[:16] / f"{table_sha256}.json"


def tier_query_aps(dots: DotProducts, membership: np.ndarray) -> np.ndarray:
    """AP (n,) of each protein as a query against all others (NaN without a positive): the evaluator's values.

    dots: the products of the tier's n proteins (sorted ORFs); membership: float32 (n, groups).
    """
    n = membership.shape[0]
    out = np.empty(n, dtype=np.float64)
    columns = np.arange(n)
    for start in range(0, n, MAX_BLOCK_ROWS):
        stop = min(start + MAX_BLOCK_ROWS, n)
        shared = (membership[start:stop] @ membership.T) > 0
        out[start:stop] = query_average_precision(
            dots.rows(start, stop), shared, columns[None, :] == columns[start:stop, None]
        )
    return out


def compute_query_aps(
    proteins: list[str], vectors: np.ndarray, standards: Standards, tiers: Iterable[str] | None = None
) -> dict[str, pd.Series]:
    """tier -> per-query AP (index: the answered query ORFs, sorted) for ORFs (n,) and vectors (n, d)."""
    chosen = check_tiers(tiers, standards)
    known = set().union(*(standards.tiers[t].members for t in chosen))
    keep = [i for i, p in enumerate(proteins) if p in known]
    kept = [proteins[i] for i in keep]
    dots = DotProducts(unit_vectors_fixed(np.asarray(vectors)[keep]))
    row_of = {p: i for i, p in enumerate(kept)}
    out = {}
    for tier in chosen:
        in_tier = sorted(p for p in row_of if p in standards.tiers[tier].members)
        if len(in_tier) < 2:
            out[tier] = pd.Series(dtype=np.float64, index=pd.Index([], name="protein"), name=tier)
            continue
        idx = np.array([row_of[p] for p in in_tier], dtype=np.int64)
        aps = tier_query_aps(dots.restrict(idx), _membership(standards.tiers[tier], in_tier))
        series = pd.Series(aps, index=pd.Index(in_tier, name="protein"), name=tier)
        out[tier] = series[series.notna()]
    return out


def _read_cache(path: Path) -> dict[str, pd.Series] | None:
    try:
        data = json.loads(path.read_text())
        return {
            t: pd.Series(v["ap"], index=pd.Index(v["protein"], name="protein"), name=t, dtype=np.float64)
            for t, v in data["tiers"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or unreadable: recompute (and overwrite)


def query_aps(
    table: ProteinTable | str | Path,
    standards: Standards,
    tiers: Iterable[str] | None = None,
    cache_dir: str | Path | None = None,
    cache: bool = True,
) -> dict[str, pd.Series]:
    """Per tier: the AP of each query protein of the table (index: ORF, sorted; exactly the values whose mean
    is the tier's ``map``). Computed for every tier once per (table sha256, standards, evaluator) and cached.

    table: a validated :class:`ProteinTable` or the path of a Parquet table (read with ``read_table``).
    """
    if not isinstance(table, ProteinTable):
        table = read_table(table, standards)
    chosen = check_tiers(tiers, standards)
    key = (table.sha256, standards.manifest_sha256, EVALUATOR_VERSION)
    found = _MEMORY.get(key) if cache else None
    path = cache_path(table.sha256, standards, cache_dir)
    if found is None and cache and path.is_file():
        found = _read_cache(path)
    if found is None or not set(chosen) <= set(found):
        found = compute_query_aps(table.proteins, table.vectors, standards)
        if cache:
            results.write_json_atomic(
                path,
                {
                    "evaluator": EVALUATOR_VERSION,
                    "standards_manifest_sha256": standards.manifest_sha256,
                    "table_sha256": table.sha256,
                    "tiers": {t: {"protein": s.index.tolist(), "ap": s.tolist()} for t, s in found.items()},
                },
            )
    if cache:
        _MEMORY[key] = found
    return {t: found[t].copy() for t in chosen}
