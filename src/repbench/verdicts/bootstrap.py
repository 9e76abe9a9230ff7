"""The paired bootstrap over proteins behind every verdict: paired tests, all-pairs tests, rank intervals.

One resampling scheme serves every statistic (docs/evaluation.md, "Verdicts"):

- A **universe** of proteins, sorted (``compare`` and the site pass :func:`universe` of the standards: every
  protein of any tier). Resample r draws ``len(universe)`` proteins with replacement,
  ``numpy.random.default_rng(seed).integers(0, N, size=(resamples, N))``; W[r, p] is how often protein p was
  drawn. So every row, pair, tier and section of one call sees *the same* resampled proteins.
- A row's resampled mean over a protein set C (its own answered queries, or the queries two rows share) is
  ``sum_p W[r, p] ap[p] / sum_p W[r, p]`` over p in C: each query weighted by its multiplicity.
- The APs enter the resampled sums as integers ``rint(ap * 2**32)``, so every sum is exact in float64 in any
  order (below 2**53): the same bits on every CPU and BLAS. Point estimates use the exact APs (``math.fsum``).
- A paired difference's standard error ``se`` is the standard deviation of its resampled differences; the
  interval is ``difference -/+ z se`` (z = 1.959964 for 95%) and the two-sided p-value ``erfc(|d| / (se sqrt 2))``
  (1 when d = 0 and se = 0), so the interval excludes 0 exactly when p < 0.05.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..metrics.multiple_testing import holm

#: APs are fixed-point integers at this resolution inside resampled sums
AP_UNIT_BITS = 32
_AP_SCALE = float(2**AP_UNIT_BITS)
DEFAULT_RESAMPLES = 1000
LEADER_ALPHA = 0.05


@dataclass(frozen=True)
class PairedTest:
    """A - B on the proteins both cover: point values, the difference, its interval and two-sided p."""

    a: float
    b: float
    difference: float
    ci: tuple[float, float]
    p: float
    proteins: int
    se: float
    resamples: int

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ci"] = list(self.ci)
        return out


def universe(standards, tiers: Iterable[str] | None = None) -> pd.Index:
    """The sorted proteins of the given tiers (default: all) of the standards: the resampling universe."""
    names = list(tiers) if tiers is not None else list(standards.tiers)
    return pd.Index(sorted(set().union(*(standards.tiers[t].members for t in names))), name="protein")


@lru_cache(maxsize=8)
def _weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """float64 (resamples, n): how often each of n proteins is drawn in each resample (integers)."""
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    rows = np.repeat(np.arange(resamples, dtype=np.int64) * n, n)
    counts = np.bincount(rows + draws.ravel(), minlength=resamples * n).reshape(resamples, n)
    out = counts.astype(np.float64)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=8)
def _by_protein(n: int, resamples: int, seed: int) -> np.ndarray:
    """The same multiplicities transposed, (n, resamples) contiguous: one protein's counts in a row."""
    out = np.ascontiguousarray(_weights(n, resamples, seed).T)
    out.flags.writeable = False
    return out


def resample_weights(n: int, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> np.ndarray:
    """Multiplicities W (resamples, n) of the bootstrap over a universe of n proteins (read-only, cached)."""
    if n < 1 or resamples < 2:
        raise ValueError("need at least one protein and two resamples")
    return _weights(int(n), int(resamples), int(seed))


def fixed_point(values: np.ndarray) -> np.ndarray:
    """APs in [0, 1] as float64 integers rint(ap * 2**32): their weighted sums are exact."""
    return np.rint(np.asarray(values, dtype=np.float64) * _AP_SCALE)


def exact_mean(values: Sequence[float] | np.ndarray) -> float:
    """Correctly rounded mean (math.fsum): the same on every CPU. NaN for no values."""
    values = np.asarray(values, dtype=np.float64)
    return math.fsum(values.tolist()) / values.size if values.size else float("nan")


def _std(samples: np.ndarray) -> float:
    """Sample standard deviation with math.fsum sums (order-independent)."""
    samples = samples[np.isfinite(samples)]
    if samples.size < 2:
        return float("nan")
    centred = samples - math.fsum(samples.tolist()) / samples.size
    return math.sqrt(math.fsum((centred * centred).tolist()) / (samples.size - 1))


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def normal_verdict(
    difference: float, samples: np.ndarray, level: float = 0.95
) -> tuple[float, tuple[float, float], float]:
    """(se, interval, two-sided p) of a difference from its resampled values (NaN resamples ignored)."""
    se = _std(samples)
    if not math.isfinite(se):
        return se, (float("nan"), float("nan")), float("nan")
    half = _z(level) * se
    if se == 0.0:
        p = 1.0 if difference == 0.0 else 0.0
    else:
        p = math.erfc(abs(difference) / (se * math.sqrt(2.0)))
    return se, (difference - half, difference + half), min(1.0, p)


def _positions(index: pd.Index, universe_index: pd.Index) -> np.ndarray:
    pos = universe_index.get_indexer(index)
    if (pos < 0).any():
        missing = list(index[pos < 0][:3])
        raise ValueError(f"proteins outside the resampling universe: {missing}")
    return pos


def _clean(series: pd.Series) -> pd.Series:
    return series[series.notna()]


def paired_test(
    a: pd.Series,
    b: pd.Series,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    universe: pd.Index | None = None,
    level: float = 0.95,
) -> PairedTest:
    """Paired bootstrap of mean(a) - mean(b) over the proteins both cover (same resampled proteins for both).

    a, b: per-protein values in [0, 1] (e.g. query APs from :func:`query_aps`), indexed by protein; NaN is
    "not covered". universe: the proteins multiplicities are drawn over (default: the sorted union of both
    indexes; pass :func:`universe` of the standards so that every test uses the same resampled proteins).
    """
    a, b = _clean(a), _clean(b)
    common = a.index.intersection(b.index).sort_values()
    if common.size == 0:
        nan = float("nan")
        return PairedTest(nan, nan, nan, (nan, nan), nan, 0, nan, resamples)
    va, vb = a.loc[common].to_numpy(np.float64), b.loc[common].to_numpy(np.float64)
    ma, mb = exact_mean(va), exact_mean(vb)
    if universe is None:
        universe = a.index.union(b.index).sort_values()
    weights = resample_weights(len(universe), resamples, seed)[:, _positions(common, universe)]
    numerator = weights @ (fixed_point(va) - fixed_point(vb))
    denominator = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        samples = numerator / denominator / _AP_SCALE
    difference = ma - mb
    se, ci, p = normal_verdict(difference, samples, level)
    return PairedTest(ma, mb, difference, ci, p, int(common.size), se, resamples)


class _Rows:
    """Many rows' values on one universe: the resampled sums W @ Q computed once for all pairs.

    Per row (contiguous): values, answered mask, fixed-point values; a pair then only corrects the sums for
    the few proteins one row answers and the other does not (rows of W transposed, contiguous)."""

    def __init__(
        self,
        aps: Mapping[str, pd.Series],
        universe_index: pd.Index,
        weights: np.ndarray,
        by_protein: np.ndarray | None = None,
    ):
        self.names = list(aps)
        self.by_protein = np.ascontiguousarray(weights.T) if by_protein is None else by_protein  # (n, B)
        n = len(universe_index)
        self.values = np.zeros((len(self.names), n))
        self.answered = np.zeros((len(self.names), n), dtype=bool)
        for k, name in enumerate(self.names):
            s = _clean(aps[name])
            pos = _positions(s.index, universe_index)
            self.values[k, pos] = s.to_numpy(np.float64)
            self.answered[k, pos] = True
        self.fixed = fixed_point(self.values)
        self.sums = weights @ self.fixed.T  # (B, R)
        self.counts = weights @ self.answered.T.astype(np.float64)  # (B, R)

    def means(self) -> np.ndarray:
        """(B, R) each row's resampled mean over its own answered proteins."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sums / self.counts / _AP_SCALE

    def queries(self, k: int) -> int:
        return int(self.answered[k].sum())

    def point(self, k: int, mask: np.ndarray | None = None) -> float:
        return exact_mean(self.values[k, self.answered[k] if mask is None else mask])

    def _without(self, k: int, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sums (B,), counts (B,)) of row k without the proteins drop (indices)."""
        if drop.size == 0:
            return self.sums[:, k], self.counts[:, k]
        w = self.by_protein[drop]  # (m, B)
        return self.sums[:, k] - self.fixed[k, drop] @ w, self.counts[:, k] - w.sum(axis=0)

    def paired(self, i: int, j: int) -> tuple[float, float, int, np.ndarray]:
        """(mean i, mean j, common proteins, resampled differences (B,)) on the proteins both answer."""
        ai, aj = self.answered[i], self.answered[j]
        common = ai & aj
        num_i, den = self._without(i, np.flatnonzero(ai & ~aj))
        num_j, _ = self._without(j, np.flatnonzero(aj & ~ai))
        with np.errstate(invalid="ignore", divide="ignore"):
            samples = (num_i - num_j) / den / _AP_SCALE
        return self.point(i, common), self.point(j, common), int(common.sum()), samples


def _universe_of(aps: Iterable[pd.Series], universe_index: pd.Index | None) -> pd.Index:
    if universe_index is not None:
        return pd.Index(universe_index)
    out = pd.Index([])
    for s in aps:
        out = out.union(_clean(s).index)
    return out.sort_values()


def pairwise_tests(
    aps: Mapping[str, pd.Series],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    universe: pd.Index | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """:func:`paired_test` for every pair of rows (i before j in the mapping's order), sharing one W @ Q.

    Returns one row per pair: a, b (names), proteins, map_a, map_b, difference, ci_low, ci_high, se, p.
    The same numbers as ``paired_test(aps[a], aps[b], universe=...)`` with the same universe, bit for bit.
    """
    universe = _universe_of(aps.values(), universe)
    rows = _Rows(
        aps, universe, resample_weights(len(universe), resamples, seed), _by_protein(len(universe), resamples, seed)
    )
    out = []
    for i in range(len(rows.names)):
        for j in range(i + 1, len(rows.names)):
            ma, mb, n, samples = rows.paired(i, j)
            d = ma - mb
            se, ci, p = normal_verdict(d, samples, level) if n else (float("nan"),) * 2 + (float("nan"),)
            ci = ci if n else (float("nan"), float("nan"))
            out.append((rows.names[i], rows.names[j], n, ma, mb, d, ci[0], ci[1], se, p))
    return pd.DataFrame(
        out, columns=["a", "b", "proteins", "map_a", "map_b", "difference", "ci_low", "ci_high", "se", "p"]
    )


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = largest, per row of values (B, R); equal values share the average of their ranks."""
    b, r = values.shape
    order = np.argsort(-values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    new = np.ones((b, r), dtype=bool)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    position = np.arange(r)[None, :].repeat(b, axis=0)
    first = np.maximum.accumulate(np.where(new, position, 0), axis=1)
    last_new = np.ones((b, r), dtype=bool)
    last_new[:, :-1] = new[:, 1:]
    last = np.minimum.accumulate(np.where(last_new, position, r - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((b, r))
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    return ranks


def _rank_frame(
    names: list[str], point: np.ndarray, proteins: list[int], resampled: np.ndarray, paired, level: float
) -> pd.DataFrame:
    """Rank statistics of rows from their point values (R,) and resampled values (B, R); paired(i, j)
    gives (difference i - j, resampled differences) for the leader test."""
    ok = np.isfinite(point)
    frame = pd.DataFrame(index=pd.Index(names, name="name"))
    frame["map"] = point
    frame["proteins"] = proteins
    ranks = np.full(resampled.shape, np.nan)
    if ok.any():
        ranks[:, ok] = average_ranks(resampled[:, ok])
    tail = (1.0 - level) / 2.0
    frame["mean_rank"] = [float(ranks[:, k].mean()) if ok[k] else np.nan for k in range(len(names))]
    frame["rank_low"] = [
        float(np.quantile(ranks[:, k], tail, method="lower")) if ok[k] else np.nan for k in range(len(names))
    ]
    frame["rank_high"] = [
        float(np.quantile(ranks[:, k], 1.0 - tail, method="higher")) if ok[k] else np.nan for k in range(len(names))
    ]
    leader = int(np.flatnonzero(ok)[np.argmax(point[ok])]) if ok.any() else -1
    frame["leader"] = [k == leader for k in range(len(names))]
    p_leader = np.full(len(names), np.nan)
    for k in range(len(names)):
        if ok[k] and k != leader:
            d, samples = paired(leader, k)
            p_leader[k] = normal_verdict(d, samples, level)[2]
    frame["p_vs_leader"] = p_leader
    adjusted = holm(p_leader)
    frame["indistinguishable_from_leader"] = [
        k == leader or bool(np.isfinite(adjusted[k]) and adjusted[k] >= LEADER_ALPHA) for k in range(len(names))
    ]
    return frame.sort_values(["mean_rank", "map"], ascending=[True, False], na_position="last", kind="stable")


def rank_table(
    aps: Mapping[str, Mapping[str, pd.Series]],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    universe: pd.Index | None = None,
    level: float = 0.95,
) -> dict[str, pd.DataFrame]:
    """Rank intervals per tier and overall, from ONE joint bootstrap (the same resampled proteins everywhere).

    aps: row name -> tier -> per-query APs (as :func:`query_aps` returns). Returns tier -> frame (see
    :func:`rank_intervals`) and ``"overall"`` -> the same columns for the mean mAP over the tiers (a row
    missing a tier has no overall rank; its ``map`` is NaN).
    """
    names = list(aps)
    tiers = list(dict.fromkeys(t for row in aps.values() for t in row))
    universe = _universe_of((s for row in aps.values() for s in row.values()), universe)
    weights = resample_weights(len(universe), resamples, seed)
    by_protein = _by_protein(len(universe), resamples, seed)
    out: dict[str, pd.DataFrame] = {}
    per_tier: dict[str, tuple[_Rows, list[str]]] = {}
    empty = pd.Series(dtype=np.float64)
    for tier in tiers:
        present = [n for n in names if tier in aps[n] and _clean(aps[n][tier]).size]
        rows = _Rows({n: aps[n].get(tier, empty) for n in names}, universe, weights, by_protein)
        per_tier[tier] = (rows, present)
        point = np.array([rows.point(k) if n in present else np.nan for k, n in enumerate(names)])
        resampled = rows.means()
        resampled[:, [n not in present for n in names]] = np.nan

        def paired(i, j, rows=rows):
            ma, mb, _, samples = rows.paired(i, j)
            return ma - mb, samples

        counts = [rows.queries(k) for k in range(len(names))]
        out[tier] = _rank_frame(names, point, counts, resampled, paired, level)
    complete = [all(n in per_tier[t][1] for t in tiers) for n in names]
    point = np.array(
        [exact_mean([out[t].loc[n, "map"] for t in tiers]) if complete[k] else np.nan for k, n in enumerate(names)]
    )
    resampled = np.mean([per_tier[t][0].means() for t in tiers], axis=0) if tiers else np.zeros((resamples, 0))
    resampled[:, [not c for c in complete]] = np.nan

    def paired_overall(i, j):
        diffs, samples = [], []
        for t in tiers:
            ma, mb, _, s = per_tier[t][0].paired(i, j)
            diffs.append(ma - mb)
            samples.append(s)
        return exact_mean(diffs), np.mean(samples, axis=0)

    queries = [sum(per_tier[t][0].queries(k) for t in tiers) for k in range(len(names))]
    out["overall"] = _rank_frame(names, point, queries, resampled, paired_overall, level)
    return out


def rank_intervals(
    aps: Mapping[str, pd.Series],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
    universe: pd.Index | None = None,
) -> pd.DataFrame:
    """Each row's rank with a ``level`` interval from one joint bootstrap over proteins (one tier).

    aps: row name -> per-query APs. Rows: names, sorted by mean rank. Columns: ``map`` (mean over the row's own
    answered queries), ``proteins`` (their number), ``mean_rank`` (1 = best; ties share the average rank),
    ``rank_low``/``rank_high`` (the lower/higher order statistic at (1-level)/2 and (1+level)/2 of the
    resampled ranks), ``leader`` (highest ``map``; first in order on a tie), ``p_vs_leader`` (paired test
    against the leader on the proteins both answer), ``indistinguishable_from_leader`` (the leader itself, or
    Holm-adjusted ``p_vs_leader`` >= 0.05 over the section's other rows).
    """
    return rank_table({name: {"_": s} for name, s in aps.items()}, resamples, seed, universe, level)["_"]
