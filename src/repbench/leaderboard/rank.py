"""Step 2 of the build: rank the rows of each section, with uncertainty.

Inside one section of one board (rows are never ranked across sections or standard sets):

* **best value** per score column (highlighted);
* per tier and overall, each row's **95% rank interval** and mean rank from ONE joint bootstrap over proteins
  (the same resampled proteins for every row, tier and the overall mean), and whether it is
  **indistinguishable from the leader** by the paired test (Holm-adjusted p >= 0.05), not by interval
  overlap. The statistics are :func:`repbench.verdicts.rank_table`'s; the per-query APs they start from are
  computed from the table kept beside each record (``submission.embedding_file``, checked against
  ``input.sha256``) by :func:`repbench.verdicts.query_aps` and cached in the site's cache folder.
* rows sort by overall mean rank; rows that cannot be ranked (no table kept beside the record) follow, by
  mean mAP, with no marks. A row alone in its section is marked ``only_row`` and gets no marks.

The marks of a section are a pure function of its rows' tables, the standards, the evaluator and the bootstrap
settings, so they are cached (``ranks/<key>.json`` in the site cache, key = sha256 of all of those): a warm
build neither reads per-query APs nor resamples.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import astuple
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .collect import SECTIONS, Entry, Mark, Section

METRICS = ("ami", "map", "f05", "ap")
RESAMPLES = 1000
SEED = 0
OVERALL = "overall"
#: bump when what mark_ranks computes changes, so that cached marks of older code are not reused
RANK_VERSION = "1"


@lru_cache(maxsize=4)
def standards_for(version: str):
    """The installed standard set named ``version`` (None when it is not installed here)."""
    from .. import standards as standards_module

    try:
        found = standards_module.load(version) if version != "yeast-v1" else standards_module.load()
    except Exception:  # noqa: BLE001 - a set this installation does not have: its rows are not ranked
        return None
    return found if found.version == version else None


def query_aps(entry: Entry, cache: Path):
    """tier -> per-query APs (pandas Series) of the table kept beside the record, or None without one."""
    from .. import verdicts
    from ..table import file_sha256

    name = entry.submission.get("embedding_file")
    standards = standards_for(entry.board)
    if not name or standards is None:
        return None
    path = entry.path.parent / name
    sha = entry.record["input"]["sha256"]
    cached = verdicts.queries.cache_path(sha, standards, cache)
    if cached.is_file():  # a warm build reads the cached values without opening the table
        found = verdicts.queries._read_cache(cached)
        if found is not None:
            return {t: found[t] for t in entry.record["tiers"] if t in found}
    if not path.is_file() or file_sha256(path) != sha:
        return None
    try:
        return verdicts.query_aps(
            path, standards, tiers=[t for t in entry.record["tiers"] if t in standards.tiers], cache_dir=cache
        )
    except Exception:  # noqa: BLE001 - a table the evaluator refuses is shown without rank marks
        return None


def mark_best(rows: list[Entry], tiers: list[str]) -> None:
    """The best value of each (tier, metric) column among ``rows``."""
    for tier in tiers:
        for metric in METRICS:
            values = [e.score(tier, metric) for e in rows]
            present = [v for v in values if v is not None]
            if present:
                top = max(present)
                for entry, value in zip(rows, values):
                    if value == top:
                        entry.best.add((tier, metric))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def mark_ranks(rows: list[Entry], aps: dict[str, dict]) -> None:
    """Fill ``Entry.marks`` from one joint bootstrap over the rows that have per-query APs."""
    from .. import verdicts

    ranked = {e.slug: aps[e.slug] for e in rows if aps.get(e.slug)}
    if len(ranked) < 2:
        return
    standards = standards_for(rows[0].board)
    universe = verdicts.universe(standards) if standards is not None else None
    frames = verdicts.rank_table(ranked, resamples=RESAMPLES, seed=SEED, universe=universe)
    by_slug = {e.slug: e for e in rows}
    for key, frame in frames.items():
        for slug, row in frame.iterrows():
            if not _finite(row["mean_rank"]):
                continue
            leader = bool(row["leader"])
            by_slug[slug].marks[key] = Mark(
                float(row["mean_rank"]),
                float(row["rank_low"]),
                float(row["rank_high"]),
                leader,
                bool(row["indistinguishable_from_leader"]) and not leader,
            )


def _rank_key(rows: list[Entry]) -> str:
    from .. import EVALUATOR_VERSION

    payload = [
        RANK_VERSION,
        EVALUATOR_VERSION,
        RESAMPLES,
        SEED,
        rows[0].board,
        sorted(
            (
                e.slug,
                e.record["input"]["sha256"],
                e.record["standards"]["manifest_sha256"],
                bool(e.submission.get("embedding_file")),
                sorted(e.record["tiers"]),
            )
            for e in rows
        ),
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:32]


def cached_ranks(rows: list[Entry], aps_of: Callable[[Entry], dict | None], cache: Path | None) -> None:
    """:func:`mark_ranks` through the cache: read the section's marks, or compute and store them."""
    from ..results import write_json_atomic

    path = cache / "ranks" / f"{_rank_key(rows)}.json" if cache is not None else None
    if path is not None and path.is_file():
        try:
            stored = json.loads(path.read_text())
            for entry in rows:
                entry.marks = {k: Mark(*v) for k, v in stored.get(entry.slug, {}).items()}
            return
        except (ValueError, TypeError):
            pass  # unreadable: compute again and overwrite
    mark_ranks(rows, {e.slug: aps_of(e) for e in rows})
    if path is not None:
        write_json_atomic(path, {e.slug: {k: list(astuple(m)) for k, m in e.marks.items()} for e in rows})


def _order(entry: Entry) -> tuple:
    overall = entry.marks.get(OVERALL)
    return (
        overall is None,
        overall.mean_rank if overall else 0.0,
        entry.mean_map is None,
        -(entry.mean_map or 0.0),
        entry.name.lower(),
        entry.slug,
    )


def sectioned(
    entries: list[Entry],
    tiers: list[str],
    aps_of: Callable[[Entry], dict | None] | None = None,
    cache: Path | None = None,
) -> list[tuple[Section, list[Entry]]]:
    """Non-empty sections of one board in display order, each ranked; rows by overall mean rank."""
    out = []
    for section in SECTIONS:
        rows = [e for e in entries if e.section == section.key]
        if not rows:
            continue
        mark_best(rows, tiers)
        if len(rows) == 1:
            rows[0].only_row = True
        elif aps_of is not None:
            cached_ranks(rows, aps_of, cache)
        rows.sort(key=_order)
        out.append((section, rows))
    return out
