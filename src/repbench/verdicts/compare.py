"""``repbench compare``: table A against table B, paired over the proteins both cover (docs/evaluation.md).

Per tier, on C = the proteins of the tier that both tables have (both tables are scored on C alone, so both
rank the same candidates): A - B of ``map``, ``f05`` and ``ami`` with a 95% interval and a two-sided p from
the paired bootstrap over proteins (:mod:`.bootstrap`; every resample gives A and B the same proteins):

- ``map``: the per-query AP pairs, ``resamples`` resamples;
- ``f05``: the linearised pair weights of :mod:`.f05` on the same resamples;
- ``ami``: the first ``ami_resamples`` of those resamples, each scored by recomputing AMI (one group draw,
  seed = the resample's number) for A and B on the distinct proteins drawn.

p-values are Holm-adjusted over all the tests of the comparison (12 with four tiers); a verdict says
"A better" / "B better" where the adjusted p < 0.05, else "no evidence". Per group: :mod:`.groups`.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from .. import EVALUATOR_VERSION
from ..errors import RepbenchError, UsageError
from ..evaluator import DotProducts, _ami_draws, _membership, _pairwise_scores, check_tiers
from ..metrics.ami import mean_and_sd
from ..metrics.correlation import unit_vectors_fixed
from ..metrics.group_ap import query_group_ap
from ..metrics.multiple_testing import holm
from ..progress import Progress, or_silent
from ..standards import Standards, Tier
from ..table import ProteinTable
from . import f05 as f05_boot
from .bootstrap import DEFAULT_RESAMPLES, normal_verdict, paired_test, resample_weights, universe
from .groups import compare_groups

METRICS = ("map", "ami", "f05")
AMI_RESAMPLES = 50
ALPHA = 0.05
TOP_GROUPS = 10


def verdict(difference: float, p_adjusted: float, alpha: float = ALPHA) -> str:
    if not math.isfinite(p_adjusted) or p_adjusted >= alpha or difference == 0:
        return "no evidence"
    return "A better" if difference > 0 else "B better"


def _side(table: ProteinTable, keep: list[str]) -> DotProducts:
    row = {p: i for i, p in enumerate(table.proteins)}
    return DotProducts(unit_vectors_fixed(np.asarray(table.vectors)[[row[p] for p in keep]]))


def _ami(tier: Tier, dots: DotProducts, row: dict[str, int], seeds) -> float:
    mean, _ = mean_and_sd(_ami_draws(tier, dots, row, seeds))  # the evaluator's mean of the draws
    return float("nan") if mean is None else mean


def _metric(difference: float, a: float, b: float, samples: np.ndarray, resamples: int) -> dict:
    se, ci, p = normal_verdict(difference, samples)
    return {"a": a, "b": b, "difference": difference, "ci": list(ci), "se": se, "p": p, "resamples": resamples}


def _tier(
    tier: Tier,
    common: list[str],
    dots_a: DotProducts,
    dots_b: DotProducts,
    weights: np.ndarray,
    positions: dict[str, int],
    resamples: int,
    ami_resamples: int,
    seed: int,
    names: dict[str, str],
    step: Progress,
) -> dict:
    in_tier = [p for p in common if p in tier.members]  # common is sorted
    n = len(in_tier)
    out: dict = {"proteins": n}
    if n < 2:
        return {**out, "skipped": "fewer than 2 proteins of this tier are in both tables"}
    idx = np.arange(len(common))[[p in tier.members for p in common]]
    membership = _membership(tier, in_tier)
    da, db = dots_a.restrict(idx), dots_b.restrict(idx)
    all_a, pos_a, ap_a = _pairwise_scores(da, membership)
    all_b, pos_b, ap_b = _pairwise_scores(db, membership)
    if pos_a.size == 0:
        return {**out, "skipped": "no pair of these proteins shares a group"}
    w = weights[:, [positions[p] for p in in_tier]]

    answered = ~np.isnan(ap_a)  # the same queries for both: it depends on the groups only
    index = pd.Index(np.asarray(in_tier)[answered], name="protein")
    test = paired_test(
        pd.Series(ap_a[answered], index),
        pd.Series(ap_b[answered], index),
        resamples,
        seed,
        universe=pd.Index(sorted(positions)),
    )
    out["map"] = {
        "a": test.a,
        "b": test.b,
        "difference": test.difference,
        "ci": list(test.ci),
        "se": test.se,
        "p": test.p,
        "resamples": resamples,
    }

    shared_of = lambda s, e: (membership[s:e] @ membership.T) > 0  # noqa: E731
    f_a, thr_a = f05_boot.best_threshold(all_a, pos_a)
    f_b, thr_b = f05_boot.best_threshold(all_b, pos_b)
    star_a = f05_boot.resampled_f05(w, *f05_boot.threshold_counts(da.rows, shared_of, n, thr_a))
    star_b = f05_boot.resampled_f05(w, *f05_boot.threshold_counts(db.rows, shared_of, n, thr_b))
    out["f05"] = _metric(f_a - f_b, f_a, f_b, star_a - star_b, resamples)

    row = {p: i for i, p in enumerate(in_tier)}
    ami_a, ami_b = _ami(tier, da, row, range(10)), _ami(tier, db, row, range(10))
    samples = np.full(ami_resamples, np.nan)
    stage = f"{tier.name}: AMI resamples"
    step(stage, 0, ami_resamples)
    for r in range(ami_resamples):
        drawn = {p: i for p, i in row.items() if w[r, i] > 0}
        samples[r] = _ami(tier, da, drawn, [r]) - _ami(tier, db, drawn, [r])
        step(stage, r + 1, ami_resamples)
    out["ami"] = _metric(ami_a - ami_b, ami_a, ami_b, samples, ami_resamples)

    ids = [g for g, members in tier.groups.items() if any(m in row for m in members)]
    groups = compare_groups(ids, names, query_group_ap(da.rows, membership), query_group_ap(db.rows, membership), seed)
    out["groups_tested"] = len(groups)
    out["_groups"] = groups
    return out


def compare_tables(
    a: ProteinTable,
    b: ProteinTable,
    standards: Standards,
    tiers: Iterable[str] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    ami_resamples: int = AMI_RESAMPLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict:
    """The paired comparison of two validated tables: a JSON-ready dict (docs/evaluation.md, "compare").

    ``result["tiers"][tier][metric]`` has a, b, difference, ci, se, p, p_adjusted (Holm over every test),
    verdict; ``result["tiers"][tier]["groups"]`` the ``TOP_GROUPS`` groups with the smallest q (then the
    largest |difference|); ``result["terms"]`` every group of every tier (what ``--terms`` writes).
    """
    if resamples < 2 or not 2 <= ami_resamples <= resamples:
        raise UsageError("bad-resamples", "need resamples >= 2 and 2 <= ami resamples <= resamples")
    chosen = check_tiers(tiers, standards)
    known = set().union(*(standards.tiers[t].members for t in chosen))
    common = sorted(set(a.proteins) & set(b.proteins) & known)
    if len(common) < 2:
        raise RepbenchError(
            "no-overlap",
            f"the two tables share {len(common)} protein(s) of the chosen tiers; a paired comparison needs at least 2",
            path=b.path,
        )
    step = or_silent(progress)
    space = universe(standards)
    positions = {p: i for i, p in enumerate(space)}
    weights = resample_weights(len(space), resamples, seed)
    dots_a, dots_b = _side(a, common), _side(b, common)
    names = {g: n for t in chosen for g, n in standards.tiers[t].group_names.items()}
    scores = {}
    step("comparing tiers", 0, len(chosen))
    for k, tier in enumerate(chosen):
        scores[tier] = _tier(
            standards.tiers[tier],
            common,
            dots_a,
            dots_b,
            weights,
            positions,
            resamples,
            ami_resamples,
            seed,
            names,
            step,
        )
        step("comparing tiers", k + 1, len(chosen))
    tests = [(t, m) for t in chosen for m in METRICS if m in scores[t]]
    adjusted = holm(np.array([scores[t][m]["p"] for t, m in tests], dtype=np.float64)) if tests else []
    for (t, m), p_adj in zip(tests, adjusted):
        scores[t][m]["p_adjusted"] = float(p_adj)
        scores[t][m]["verdict"] = verdict(scores[t][m]["difference"], float(p_adj))
    terms = []
    for t in chosen:
        groups = scores[t].pop("_groups", [])
        ranked = sorted(groups, key=lambda g: (g["q"], -abs(g["difference"]), g["group"]))
        scores[t]["groups"] = ranked[:TOP_GROUPS]
        terms.extend({"tier": t, **g} for g in ranked)
    return {
        "evaluator": {"version": EVALUATOR_VERSION},
        "standards": standards.stamp(),
        "a": {"path": str(a.path), "sha256": a.sha256, "proteins": len(a.proteins)},
        "b": {"path": str(b.path), "sha256": b.sha256, "proteins": len(b.proteins)},
        "proteins": len(common),
        "seed": seed,
        "resamples": {"map": resamples, "f05": resamples, "ami": ami_resamples},
        "tests": len(tests),
        "tiers": scores,
        "terms": terms,
    }


TERMS_COLUMNS = ("tier", "group", "name", "size", "map_a", "map_b", "difference", "p", "q")


def write_terms(path, result: dict) -> None:
    """Every group of the comparison as CSV, atomically; text cells guarded against spreadsheet formulas (the
    site's ``to_csv``)."""
    from ..files import write_atomic
    from ..leaderboard.render import to_csv

    rows = [{k: row[k] for k in TERMS_COLUMNS} for row in result["terms"]]
    write_atomic(path, to_csv(rows) if rows else ",".join(TERMS_COLUMNS) + "\n")
