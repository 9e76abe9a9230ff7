"""repbench.verdicts: Holm / BH, the paired bootstrap, all-pairs tests, rank intervals, cached query APs.

Each statistic is checked against a plain, slow reference written here (loops over resamples and rows).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from repbench import verdicts
from repbench.evaluator import evaluate_embedding
from repbench.verdicts import bootstrap, queries

# ---------------------------------------------------------------- multiple testing


def holm_reference(p):
    p = list(p)
    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    m = len(idx)
    order = sorted(idx, key=lambda i: (p[i], i))
    out = [float("nan")] * len(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def bh_reference(p):
    p = list(p)
    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    m = len(idx)
    order = sorted(idx, key=lambda i: (p[i], i))
    out = [float("nan")] * len(p)
    for rank, i in enumerate(order):
        out[i] = min(min(1.0, p[j] * m / (r + 1)) for r, j in enumerate(order) if r >= rank)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_holm_and_bh_match_the_plain_definitions(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, 40) ** 2
    p[[3, 17]] = np.nan
    p[5] = p[6]  # a tie
    np.testing.assert_allclose(verdicts.holm(p), holm_reference(p), rtol=0, atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(verdicts.benjamini_hochberg(p), bh_reference(p), rtol=0, atol=1e-15, equal_nan=True)


def test_holm_and_bh_small_cases_by_hand():
    np.testing.assert_allclose(verdicts.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(verdicts.benjamini_hochberg([0.01, 0.04, 0.03]), [0.03, 0.04, 0.04])
    with pytest.raises(ValueError):
        verdicts.holm([0.5, 1.5])


# ---------------------------------------------------------------- paired test


def ap_series(values, names):
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(names, name="protein"))


def paired_reference(a, b, universe, resamples, seed, level=0.95):
    """Loop over resamples: weighted means over the common proteins, then the normal interval and p."""
    common = sorted(set(a.dropna().index) & set(b.dropna().index))
    draws = np.random.default_rng(seed).integers(0, len(universe), size=(resamples, len(universe)))
    pos = {p: i for i, p in enumerate(universe)}
    diffs = []
    for r in range(resamples):
        counts = np.bincount(draws[r], minlength=len(universe))
        w = np.array([counts[pos[p]] for p in common], dtype=float)
        if w.sum() == 0:
            continue
        da = sum(wi * a[p] for wi, p in zip(w, common)) / w.sum()
        db = sum(wi * b[p] for wi, p in zip(w, common)) / w.sum()
        diffs.append(da - db)
    d = float(np.mean([a[p] for p in common]) - np.mean([b[p] for p in common]))
    se = float(np.std(diffs, ddof=1))
    z = 1.959963984540054
    p = math.erfc(abs(d) / (se * math.sqrt(2))) if se > 0 else (1.0 if d == 0 else 0.0)
    return d, se, (d - z * se, d + z * se), p, len(common)


def test_paired_test_matches_the_loop_reference(rng):
    names = [f"P{i:03d}" for i in range(60)]
    a = ap_series(rng.uniform(0, 1, 60), names)
    b = ap_series(np.clip(a.to_numpy() - 0.05 + rng.normal(0, 0.1, 60), 0, 1), names)
    a.iloc[:5] = np.nan  # a does not answer five queries: they are not paired
    b = b.drop(names[-4:])  # b does not cover four proteins
    universe = pd.Index(names)
    got = verdicts.paired_test(a, b, resamples=300, seed=4, universe=universe)
    d, se, ci, p, n = paired_reference(a, b, names, 300, 4)
    assert got.proteins == n == 51
    assert got.difference == pytest.approx(d, abs=1e-12)
    assert got.se == pytest.approx(se, rel=1e-6)  # APs enter resampled sums at a 2**-32 resolution
    assert got.ci[0] == pytest.approx(ci[0], abs=1e-8) and got.ci[1] == pytest.approx(ci[1], abs=1e-8)
    assert got.p == pytest.approx(p, rel=1e-5, abs=1e-12)
    assert got.ci[0] < got.difference < got.ci[1]
    assert (got.p < 0.05) == (got.ci[0] > 0 or got.ci[1] < 0)


def test_paired_test_of_a_row_with_itself_is_zero_with_p_one(rng):
    a = ap_series(rng.uniform(0, 1, 200), [f"P{i}" for i in range(200)])
    t = verdicts.paired_test(a, a.copy())
    assert (t.difference, t.p, t.se, t.ci) == (0.0, 1.0, 0.0, (0.0, 0.0))
    assert t.a == t.b == pytest.approx(a.mean(), abs=1e-15)


def test_paired_test_finds_a_real_shift_and_is_deterministic(rng):
    names = [f"P{i}" for i in range(400)]
    base = rng.uniform(0.1, 0.8, 400)
    a = ap_series(base + rng.uniform(0.0, 0.1, 400), names)  # better on average by 0.05
    b = ap_series(base, names)
    t = verdicts.paired_test(a, b, resamples=500, seed=1)
    assert t.p < 1e-6 and t.ci[0] > 0 and t.difference == pytest.approx(0.05, abs=0.01)
    assert verdicts.paired_test(a, b, resamples=500, seed=1) == t  # fixed seed: the same bits
    assert verdicts.paired_test(b, a, resamples=500, seed=1).difference == -t.difference


def test_no_common_proteins_gives_nan():
    t = verdicts.paired_test(ap_series([0.5], ["A"]), ap_series([0.5], ["B"]))
    assert t.proteins == 0 and math.isnan(t.p)


def test_weights_are_multiplicities_of_the_documented_draw():
    w = verdicts.resample_weights(7, 5, seed=3)
    draws = np.random.default_rng(3).integers(0, 7, size=(5, 7))
    assert w.shape == (5, 7) and not w.flags.writeable
    np.testing.assert_array_equal(w, [np.bincount(d, minlength=7) for d in draws])


def test_pairwise_tests_equal_paired_test_bit_for_bit(rng):
    names = [f"P{i:03d}" for i in range(80)]
    universe = pd.Index(names)
    aps = {}
    for k in range(4):
        s = ap_series(np.clip(rng.uniform(0, 1, 80) + 0.05 * k, 0, 1), names)
        aps[f"row{k}"] = s.drop(rng.choice(names, size=5 * k, replace=False)) if k else s
    frame = verdicts.pairwise_tests(aps, resamples=200, seed=2, universe=universe)
    assert len(frame) == 6
    for row in frame.itertuples():
        t = verdicts.paired_test(aps[row.a], aps[row.b], resamples=200, seed=2, universe=universe)
        assert (row.proteins, row.map_a, row.map_b, row.difference, row.se, row.p) == (
            t.proteins,
            t.a,
            t.b,
            t.difference,
            t.se,
            t.p,
        )
        assert (row.ci_low, row.ci_high) == t.ci


# ---------------------------------------------------------------- rank intervals


def ranks_reference(aps, universe, resamples, seed, level=0.95):
    draws = np.random.default_rng(seed).integers(0, len(universe), size=(resamples, len(universe)))
    pos = {p: i for i, p in enumerate(universe)}
    names = list(aps)
    ranks = {n: [] for n in names}
    for r in range(resamples):
        counts = np.bincount(draws[r], minlength=len(universe))
        means = {}
        for n in names:
            s = aps[n].dropna()
            w = np.array([counts[pos[p]] for p in s.index], dtype=float)
            means[n] = float(w @ s.to_numpy() / w.sum())
        for n in names:  # average rank on ties, 1 = best
            above = sum(means[m] > means[n] for m in names)
            tied = sum(means[m] == means[n] for m in names)
            ranks[n].append(above + (tied + 1) / 2)
    tail = (1 - level) / 2
    return {
        n: (np.mean(v), np.quantile(v, tail, method="lower"), np.quantile(v, 1 - tail, method="higher"))
        for n, v in ranks.items()
    }


def test_rank_intervals_match_the_loop_reference(rng):
    names = [f"P{i:03d}" for i in range(50)]
    base = rng.uniform(0, 0.6, 50)
    aps = {
        "strong": ap_series(base + 0.3, names),
        "close-a": ap_series(base + rng.uniform(0, 0.04, 50), names).iloc[3:],  # covers fewer proteins
        "close-b": ap_series(base + rng.uniform(0, 0.04, 50), names),
        "weak": ap_series(base * 0.2, names),
    }
    frame = verdicts.rank_intervals(aps, resamples=200, seed=5, universe=pd.Index(names))
    ref = ranks_reference(aps, names, 200, 5)
    for name, (mean_rank, low, high) in ref.items():
        assert frame.loc[name, "mean_rank"] == pytest.approx(mean_rank, abs=1e-12)
        assert (frame.loc[name, "rank_low"], frame.loc[name, "rank_high"]) == (low, high)
    assert list(frame.index) == sorted(ref, key=lambda n: ref[n][0])  # sorted by mean rank
    assert frame.loc["strong", "leader"] and frame["leader"].sum() == 1
    assert (frame.loc["strong", "rank_low"], frame.loc["strong", "rank_high"]) == (1, 1)
    assert frame.loc["strong", "indistinguishable_from_leader"]
    assert not frame.loc["weak", "indistinguishable_from_leader"]
    assert frame.loc["close-a", "proteins"] == 47
    assert frame.loc["close-a", "map"] == pytest.approx(aps["close-a"].mean(), abs=1e-15)


def test_identical_rows_are_indistinguishable_and_share_ranks(rng):
    names = [f"P{i}" for i in range(100)]
    s = ap_series(rng.uniform(0, 1, 100), names)
    frame = verdicts.rank_intervals({"x": s, "y": s.copy(), "z": s * 0.5})
    assert frame.loc["x", "mean_rank"] == frame.loc["y", "mean_rank"] == 1.5
    assert frame.loc["x", "leader"] and not frame.loc["y", "leader"]  # first in order on a tie
    assert frame.loc["y", "indistinguishable_from_leader"] and frame.loc["y", "p_vs_leader"] == 1.0
    assert not frame.loc["z", "indistinguishable_from_leader"]
    assert (frame.loc["z", "rank_low"], frame.loc["z", "rank_high"]) == (3, 3)


def test_rank_table_overall_is_the_mean_over_tiers_with_one_joint_bootstrap(rng):
    names = [f"P{i}" for i in range(60)]
    aps = {
        "a": {"t1": ap_series(rng.uniform(0.5, 1, 60), names), "t2": ap_series(rng.uniform(0, 0.2, 60), names)},
        "b": {"t1": ap_series(rng.uniform(0, 0.2, 60), names), "t2": ap_series(rng.uniform(0.6, 1, 60), names)},
        "c": {"t1": ap_series(rng.uniform(0, 0.1, 60), names)},  # no t2: no overall rank
    }
    table = verdicts.rank_table(aps, resamples=100, seed=0)
    assert set(table) == {"t1", "t2", "overall"}
    assert table["t1"].index[0] == "a" and table["t2"].index[0] == "b"
    overall = table["overall"]
    assert overall.loc["a", "map"] == pytest.approx((aps["a"]["t1"].mean() + aps["a"]["t2"].mean()) / 2, abs=1e-15)
    assert math.isnan(overall.loc["c", "map"]) and math.isnan(overall.loc["c", "mean_rank"])
    assert not overall.loc["c", "indistinguishable_from_leader"]
    # the per-tier frames equal a rank_table of that tier alone with the same universe
    alone = verdicts.rank_intervals(
        {n: aps[n]["t1"] for n in aps}, resamples=100, seed=0, universe=pd.Index(sorted(names))
    )
    pd.testing.assert_frame_equal(alone, table["t1"])


# ---------------------------------------------------------------- per-query APs


def small_table(standards, n=400, seed=0):
    rng = np.random.default_rng(seed)
    proteins = list(standards.reference_proteome)[::7][:n]
    vectors = rng.standard_normal((len(proteins), 12))
    go_cc = standards.tiers["go_cc"]
    for g, members in enumerate(go_cc.groups.values()):
        for m in members:
            if m in proteins:
                vectors[proteins.index(m), g % 12] += 1.5
    return proteins, vectors


def test_query_aps_are_exactly_the_values_whose_mean_is_map(standards):
    proteins, vectors = small_table(standards)
    scores = evaluate_embedding(proteins, vectors, standards, with_curve=False)
    aps = verdicts.compute_query_aps(proteins, vectors, standards)
    assert set(aps) == set(scores)
    for tier, s in aps.items():
        assert s.index.is_monotonic_increasing and s.notna().all()
        assert len(s) == scores[tier]["map_queries"]
        assert bootstrap.exact_mean(s.to_numpy()) == scores[tier]["map"]  # the same bits (both math.fsum)


def test_query_aps_are_cached_by_table_standards_and_evaluator(standards, tmp_path, monkeypatch):
    from repbench.table import read_table, write_table

    proteins, vectors = small_table(standards, n=200)
    path = write_table(tmp_path / "t.parquet", proteins, vectors)
    table = read_table(path, standards)
    first = verdicts.query_aps(table, standards, cache_dir=tmp_path / "cache")
    entry = queries.cache_path(table.sha256, standards, tmp_path / "cache")
    assert entry.is_file() and table.sha256 in entry.name and standards.manifest_sha256[:16] in str(entry)
    queries._MEMORY.clear()

    def boom(*args, **kwargs):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(queries, "compute_query_aps", boom)
    again = verdicts.query_aps(path, standards, tiers=["kegg"], cache_dir=tmp_path / "cache")  # read from disk
    assert list(again) == ["kegg"]
    pd.testing.assert_series_equal(again["kegg"], first["kegg"])
    monkeypatch.setattr(queries, "EVALUATOR_VERSION", "9.9.9")  # another evaluator never reads the entry
    with pytest.raises(AssertionError, match="recomputed"):
        verdicts.query_aps(table, standards, cache_dir=tmp_path / "cache")


def test_bootstrap_sums_are_exact_integers():
    values = np.array([0.1, 0.2, 1.0, 0.0, 1 / 3])
    fixed = bootstrap.fixed_point(values)
    assert np.all(fixed == np.round(fixed)) and fixed.max() == 2.0**32


def test_average_ranks_match_scipy(rng):
    from scipy.stats import rankdata

    values = rng.integers(0, 5, size=(40, 7)).astype(float)  # many ties
    np.testing.assert_array_equal(bootstrap.average_ranks(values), rankdata(-values, axis=1, method="average"))
