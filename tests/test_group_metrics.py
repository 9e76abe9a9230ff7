"""New per-group and per-query metrics: group mAP and the copairs-style per-query permutation null."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from repbench.metrics.correlation import integer_dots, unit_vectors_fixed
from repbench.metrics.group_ap import group_map, query_group_ap
from repbench.metrics.query_significance import clear_cache, fraction_retrieved, null_average_precision, query_p_values


def group_ap_reference(scores, membership):
    """sklearn AP per (query, group): query q in group g ranks every other protein, positives = g's others."""
    n, groups = membership.shape
    out = {}
    for g in range(groups):
        members = np.flatnonzero(membership[:, g])
        if members.size < 2:
            continue
        for q in members:
            others = np.arange(n) != q
            out[(q, g)] = average_precision_score(membership[others, g] > 0, scores[q, others])
    return out


@pytest.mark.parametrize("n", [40, 600])  # 600: several blocks of 255 query rows
def test_query_group_ap_matches_sklearn(n):
    rng = np.random.default_rng(n)
    membership = (rng.random((n, 9)) < rng.uniform(0.005, 0.3, 9)).astype(np.float32)
    membership[:, 8] = 0
    membership[3, 8] = 1  # a one-member group: no AP
    vectors = rng.standard_normal((n, 6)) + membership[:, :6] * 2
    vectors[5] = vectors[4]  # exact ties
    fixed = unit_vectors_fixed(vectors)
    scores = integer_dots(fixed, fixed)
    q, g, ap = query_group_ap(lambda a, b: scores[a:b], membership)
    ref = group_ap_reference(scores, membership)
    assert sorted(zip(q.tolist(), g.tolist())) == sorted(ref) and list(q) == sorted(q)
    np.testing.assert_allclose(ap, [ref[(a, b)] for a, b in zip(q, g)], rtol=0, atol=1e-12)
    means, size = group_map(g, ap, 9)
    for k in range(8):
        members = np.flatnonzero(membership[:, k])
        if members.size >= 2:
            assert size[k] == members.size
            assert means[k] == pytest.approx(np.mean([ref[(m, k)] for m in members]), abs=1e-12)
    assert np.isnan(means[8]) and size[8] == 0


def exact_null(k, n):
    """Every k-subset of n ranks equally likely: the exact AP distribution."""
    values = []
    for ranks in itertools.combinations(range(1, n + 1), k):
        values.append(np.mean([(m + 1) / r for m, r in enumerate(ranks)]))
    return np.array(values)


@pytest.mark.parametrize("k,n", [(1, 3), (2, 6), (3, 10)])
def test_null_ap_is_the_uniform_arrangement(k, n):
    exact = exact_null(k, n)
    null = null_average_precision(k, n, 20000)
    assert null.shape == (20000,) and not null.flags.writeable and np.all(np.diff(null) >= 0)
    se = exact.std() / np.sqrt(null.size)
    assert abs(null.mean() - exact.mean()) < 4 * se
    for t in np.unique(exact):  # the distribution function at every atom
        p = np.mean(exact <= t + 1e-12)
        assert abs(np.mean(null <= t + 1e-12) - p) < 4 * np.sqrt(p * (1 - p) / null.size) + 1e-9
    assert null_average_precision(k, n, 20000) is null  # cached


def test_null_is_seeded_by_its_configuration_only():
    clear_cache()
    a = null_average_precision(5, 50, 300)
    clear_cache()
    null_average_precision(40, 50, 300)  # a longer table of the same n first
    null_average_precision(7, 80, 300)
    np.testing.assert_array_equal(null_average_precision(5, 50, 300), a)
    assert not np.array_equal(null_average_precision(5, 51, 300), a)


def test_query_p_values_and_fraction_retrieved():
    ap = np.array([1.0, 0.01, np.nan, 1.0])
    p = query_p_values(ap, np.array([5, 5, 5, 1]), np.array([400, 400, 400, 2]), size=999)
    assert p[0] == pytest.approx(1 / 1000)  # five positives ranked first: no null draw does as well
    assert p[1] > 0.9 and np.isnan(p[2])
    assert p[3] == pytest.approx((1 + np.sum(null_average_precision(1, 2, 999) >= 1.0 - 1e-12)) / 1000)
    assert fraction_retrieved(np.array([0.01, 0.2, np.nan, 0.049])) == pytest.approx(2 / 3)
    assert fraction_retrieved(np.array([np.nan])) is None


# ---------------------------------------------------------------- the evaluator 1.1.0 fields

#: evaluator 1.1.0 also makes these CPU-independent (issue 9, the `eval` engineer): last-bit changes only
LAST_BITS_IN_1_1_0 = ("ap", "map", "map_ci", "ami", "ami_sd")


def test_every_1_0_0_number_is_unchanged_by_the_new_fields():
    """The result of the golden table now carries group_map and fraction_retrieved; every field that evaluator
    1.0.0 reported is still what tests/data/golden_scores_1.0.0.json (the 1.0.0 golden file) holds: bit for
    bit, except the last bits of the sums issue 9 made CPU-independent (<= 1e-12)."""
    import json
    from pathlib import Path

    from test_golden import compute

    old = json.loads((Path(__file__).parent / "data" / "golden_scores_1.0.0.json").read_text())
    now = compute()
    assert now["evaluator"] == "1.1.0" and old["evaluator"] == "1.0.0"
    for tier, scores in old["tiers"].items():
        assert set(now["tiers"][tier]) - set(scores) == {"fraction_retrieved", "group_map"}
        for key, value in scores.items():
            if key in LAST_BITS_IN_1_1_0:
                np.testing.assert_allclose(now["tiers"][tier][key], value, rtol=0, atol=1e-12)
            else:
                assert now["tiers"][tier][key] == value, (tier, key)


def test_the_new_fields_leave_every_other_number_alone(monkeypatch, standards):
    """Computing group_map and fraction_retrieved changes nothing else (no shared array is touched)."""
    from test_golden import golden_input

    from repbench import evaluator

    proteins, vectors = golden_input(standards)
    with_fields = evaluator.evaluate_embedding(proteins, vectors, standards, with_curve=True)
    monkeypatch.setattr(evaluator, "_groups_and_retrieval", lambda *args: {})
    without = evaluator.evaluate_embedding(proteins, vectors, standards, with_curve=True)
    for tier, scores in without.items():
        assert {k: with_fields[tier][k] for k in scores} == scores


def test_group_map_and_fraction_retrieved_match_a_plain_reference():
    from conftest import make_standards, orf_names

    from repbench.evaluator import evaluate_embedding
    from repbench.metrics.multiple_testing import benjamini_hochberg

    rng = np.random.default_rng(7)
    names = orf_names(90)
    groups = {
        f"G{g}": [names[i] for i in rng.choice(90, size=int(rng.integers(2, 20)), replace=False)] for g in range(12)
    }
    groups["G99"] = [names[0]]  # one member: no group mAP
    standards = make_standards({"go_cc": groups})
    vectors = rng.standard_normal((90, 8))
    for g, members in enumerate(groups.values()):
        for m in members:
            vectors[names.index(m), g % 8] += 1.0 if g < 6 else 0.0  # half the groups are recoverable
    scores = evaluate_embedding(names, vectors, standards, with_curve=False)["go_cc"]
    in_tier = sorted({m for ms in groups.values() for m in ms})
    fixed = unit_vectors_fixed(vectors[[names.index(p) for p in in_tier]])
    s = integer_dots(fixed, fixed)
    member = {g: {in_tier.index(m) for m in ms} for g, ms in groups.items()}
    expected = {}
    for g, ms in member.items():
        if len(ms) >= 2:
            aps = [
                average_precision_score(
                    [j in ms for j in range(len(in_tier)) if j != q], [s[q, j] for j in range(len(in_tier)) if j != q]
                )
                for q in sorted(ms)
            ]
            expected[g] = [np.mean(aps), len(ms)]
    assert set(scores["group_map"]) == set(expected)
    for g, (value, size) in expected.items():
        assert scores["group_map"][g][1] == size and scores["group_map"][g][0] == pytest.approx(value, abs=1e-12)
    p = []
    for q in range(len(in_tier)):
        positives = [any(q in ms and j in ms for ms in member.values()) for j in range(len(in_tier)) if j != q]
        if sum(positives):
            ap = average_precision_score(positives, [s[q, j] for j in range(len(in_tier)) if j != q])
            null = null_average_precision(sum(positives), len(in_tier) - 1)
            p.append((1 + np.sum(null >= ap - 1e-12)) / (1 + null.size))
    q_values = benjamini_hochberg(np.array(p))
    assert scores["fraction_retrieved"] == pytest.approx(np.mean(q_values < 0.05), abs=1e-12)
    assert 0 < scores["fraction_retrieved"] < 1


def test_one_null_table_per_candidate_count():
    """Queries with many different positive counts among the same candidates share one null table (built up
    to the largest count), not one rebuilt per count."""
    from repbench.metrics import query_significance

    clear_cache()
    k = np.arange(1, 40)
    query_p_values(np.full(k.size, 0.5), k, np.full(k.size, 100), size=50)
    assert query_significance._nulls.cache_info().misses == 1
