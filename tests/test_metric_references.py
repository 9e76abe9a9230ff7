"""The per-group, per-query and multiple-testing metrics against plain references written here, small and fast
(in mutmut's fast subset): Holm and Benjamini-Hochberg as loops, group AP per (query, group) with scikit-learn,
the permutation null as the documented draw with each AP summed by hand, and the exact error messages."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from repbench.metrics.f_beta import best_f_beta
from repbench.metrics.group_ap import group_map, query_group_ap
from repbench.metrics.multiple_testing import benjamini_hochberg, holm
from repbench.metrics.query_ap import MAX_BLOCK_ROWS, query_average_precision
from repbench.metrics.query_significance import (
    NULL_SEED,
    TIE_TOLERANCE,
    clear_cache,
    fraction_retrieved,
    null_average_precision,
    positives_per_query,
    query_p_values,
)

# ---------------------------------------------------------------- Holm and Benjamini-Hochberg


def holm_loop(p):
    """Holm step-down: sorted ascending, adjusted_(i) = max over j <= i of min(1, (m - j + 1) p_(j)); NaN kept."""
    p = [float(v) for v in p]
    finite = [i for i, v in enumerate(p) if v == v]
    order = sorted(finite, key=lambda i: p[i])
    m = len(order)
    out = [float("nan")] * len(p)
    running = 0.0
    for j, i in enumerate(order, start=1):
        running = max(running, min(1.0, (m - j + 1) * p[i]))
        out[i] = running
    return out


def bh_loop(p):
    """Benjamini-Hochberg: sorted ascending, q_(i) = min over j >= i of min(1, m p_(j) / j); NaN kept."""
    p = [float(v) for v in p]
    finite = [i for i, v in enumerate(p) if v == v]
    order = sorted(finite, key=lambda i: p[i])
    m = len(order)
    out = [float("nan")] * len(p)
    running = 1.0
    for j in range(m, 0, -1):
        i = order[j - 1]
        running = min(running, min(1.0, m * p[i] / j))
        out[i] = running
    return out


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.5]
    # Holm: sorted 0.01, 0.03, 0.04, 0.5 -> 4 * 0.01, max(.04, 3 * .03), max(.09, 2 * .04), max(.09, .5)
    np.testing.assert_allclose(holm(p), [0.04, 0.09, 0.09, 0.5], rtol=0, atol=1e-15)
    # BH: 4 * .01 / 1, 4 * .03 / 2, 4 * .04 / 3, 4 * .5 / 4, each the min of itself and the later ones
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 4 * 0.04 / 3, 4 * 0.04 / 3, 0.5], rtol=0, atol=1e-15)
    # capped at 1
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]
    np.testing.assert_allclose(benjamini_hochberg([0.9, 0.8, 0.7]), [0.9, 0.9, 0.9], rtol=0, atol=1e-15)
    assert holm([0.3]).tolist() == [0.3] and benjamini_hochberg([0.3]).tolist() == [0.3]


@pytest.mark.parametrize("m", [2, 7, 40])
def test_holm_and_bh_equal_plain_loops(m):
    rng = np.random.default_rng(m)
    p = rng.random(m) ** 3  # many small p, some adjusted past 1
    p[rng.random(m) < 0.25] = np.nan
    p[: m // 3] = np.round(p[: m // 3], 1)  # ties
    p[0] = 0.0
    p[-1] = 1.0
    for got, expected in ((holm(p), holm_loop(p)), (benjamini_hochberg(p), bh_loop(p))):
        assert got.shape == (m,) and got.dtype == np.float64
        np.testing.assert_array_equal(np.isnan(got), np.isnan(p))
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)


def test_holm_and_bh_compute_in_float64_whatever_the_input_type():
    p32 = (np.random.default_rng(0).random(7) ** 2).astype(np.float32)
    p64 = p32.astype(np.float64)  # the same values
    for adjust, loop in ((holm, holm_loop), (benjamini_hochberg, bh_loop)):
        np.testing.assert_array_equal(adjust(p32), adjust(p64))
        np.testing.assert_allclose(adjust(p32), loop(p64), rtol=1e-15, atol=0)
        assert adjust([0, 1]).tolist() == [0.0, 1.0] and adjust(np.array([1, 0])).dtype == np.float64


def test_holm_and_bh_without_finite_p_values():
    for adjust in (holm, benjamini_hochberg):
        assert adjust([]).shape == (0,)
        out = adjust(np.array([np.nan, np.nan]))
        assert out.shape == (2,) and np.isnan(out).all()


@pytest.mark.parametrize(
    "p, message",
    [
        ([[0.1, 0.2]], "p-values must be a 1-d array"),
        (0.5, "p-values must be a 1-d array"),
        ([0.1, -0.01], "p-values must lie in [0, 1]"),
        ([1.01, np.nan], "p-values must lie in [0, 1]"),
    ],
)
def test_holm_and_bh_refuse_what_is_not_p_values(p, message):
    for adjust in (holm, benjamini_hochberg):
        with pytest.raises(ValueError) as error:
            adjust(p)
        assert str(error.value) == message


# ---------------------------------------------------------------- F-beta and per-query AP: the edges


def test_best_f_beta_for_other_betas_and_an_empty_curve():
    precision, recall = np.array([1.0, 0.5, 0.0]), np.array([0.25, 1.0, 0.0])
    # F1 = 2PR / (P + R): 0.4 and 2/3; F2 = 5PR / (4P + R): 1.25 / 4.25 and 2.5 / 3; (0, 0) scores 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the (0, 0) point raises no "invalid value" warning
        assert best_f_beta(precision, recall, beta=1.0) == pytest.approx(2 / 3, abs=1e-15)
        assert best_f_beta(np.zeros(2), np.zeros(2)) == 0.0
    assert best_f_beta(precision, recall, beta=2.0) == pytest.approx(2.5 / 3, abs=1e-15)
    assert best_f_beta(precision, recall) == pytest.approx(1.25 * 0.25 / (0.25 + 0.25), abs=1e-15)  # F0.5
    assert best_f_beta(np.zeros(0), np.zeros(0)) == 0.0


def test_query_ap_rows_without_positives_are_nan_and_silent():
    scores = np.array([[3, 1, 2, 0], [5, 4, 3, 2], [0, 1, 2, 3]], dtype=np.int64)
    positives = np.array([[False, True, True, False], [False, True, False, False], [False] * 4])
    exclude = np.eye(3, 4, dtype=bool)  # query r is item r; row 1's only positive is itself: not ranked
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value" warning for the rows without positives
        got = query_average_precision(scores, positives, exclude)
    # row 0 ranks 2 (+), 1 (+), 0 (-) without item 0: AP 1; rows 1 and 2: no positive
    assert got[0] == 1.0 and np.isnan(got[1]) and np.isnan(got[2]) and got.dtype == np.float64


def test_query_ap_block_limit():
    ones = np.ones((MAX_BLOCK_ROWS, 3), np.int64)
    positives = np.zeros((MAX_BLOCK_ROWS, 3), bool)
    positives[:, 1] = True
    assert query_average_precision(ones, positives, np.zeros_like(positives)).tolist() == [1 / 3] * MAX_BLOCK_ROWS
    with pytest.raises(ValueError) as error:
        query_average_precision(np.ones((256, 3), np.int64), np.ones((256, 3), bool), np.zeros((256, 3), bool))
    assert str(error.value) == "at most 255 rows per block"


# ---------------------------------------------------------------- group AP


def group_ap_loop(scores, membership):
    """{(query, group): sklearn AP} of every member q of every group g of >= 2 members: q ranks all others."""
    n, groups = membership.shape
    out = {}
    for g in range(groups):
        members = np.flatnonzero(membership[:, g])
        if members.size >= 2:
            for q in members:
                others = np.arange(n) != q
                out[(int(q), g)] = average_precision_score(membership[others, g] > 0, scores[q, others])
    return out


def test_query_group_ap_across_blocks_equals_sklearn():
    """520 proteins: query blocks 0-254, 255-509 (no member of a group of >= 2: skipped) and 510-519."""
    n = 520
    rng = np.random.default_rng(3)
    membership = np.zeros((n, 6), np.float32)
    block0, block2 = rng.choice(255, 40, replace=False), np.arange(510, 520)
    membership[block0[:12], 0] = 1
    membership[block2[:4], 0] = 1  # group 0 spans blocks 0 and 2
    membership[block0[10:25], 1] = 1  # overlaps group 0
    membership[block2[3:9], 2] = 1
    membership[block0[30], 3] = 1  # one member: no AP; group 4 has none
    membership[block0[31:33], 5] = 1  # two members: each the other's only positive
    vectors = rng.integers(-3, 4, size=(n, 3))  # few distinct scores: ties everywhere
    vectors[:, 0] += (membership[:, :3] * np.array([2, 3, 4])).sum(axis=1).astype(int)
    scores = vectors @ vectors.T
    calls = []

    def rows(start, stop):
        calls.append((start, stop))
        return scores[start:stop]

    q, g, ap = query_group_ap(rows, membership)
    assert calls == [(0, 255), (510, 520)]  # the scores of a block without pairs are never computed
    expected = group_ap_loop(scores, membership)
    pairs = list(zip(q.tolist(), g.tolist()))
    assert pairs == sorted(expected) and q.dtype == np.int64 and g.dtype == np.int64
    np.testing.assert_allclose(ap, [expected[pair] for pair in pairs], rtol=0, atol=1e-12)
    means, size = group_map(g, ap, 6)
    for k in range(6):
        members = np.flatnonzero(membership[:, k])
        if members.size >= 2:
            assert size[k] == members.size
            assert means[k] == pytest.approx(np.mean([expected[(int(m), k)] for m in members]), abs=1e-12)
        else:
            assert size[k] == 0 and np.isnan(means[k])
    assert size.tolist() == [16, 15, 6, 0, 0, 2]


def test_query_group_ap_by_hand_with_tied_positives():
    scores = np.array([[0, 5, 5, 7], [4, 0, 9, 1], [3, 3, 0, 3], [1, 1, 1, 0]], dtype=np.int64)
    membership = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=np.float32)  # group 0: {0, 1, 2}
    q, g, ap = query_group_ap(lambda a, b: scores[a:b], membership)
    # query 0: 3 (7, -) above its tied positives 1, 2 (5): each at precision 2/3; query 1: 2 (+), 0 (+), 3 (-): 1;
    # query 2: all three tie at 3: precision 2/3 for both positives
    assert q.tolist() == [0, 1, 2] and g.tolist() == [0, 0, 0]
    np.testing.assert_allclose(ap, [2 / 3, 1.0, 2 / 3], rtol=0, atol=1e-15)
    means, size = group_map(g, ap, 2)
    assert means[0] == pytest.approx(7 / 9, abs=1e-15) and np.isnan(means[1]) and size.tolist() == [3, 0]


def test_query_group_ap_without_pairs_and_group_map_by_hand():
    membership = np.eye(4, 3, dtype=np.float32)  # three one-member groups
    q, g, ap = query_group_ap(lambda a, b: np.zeros((b - a, 4), np.int64), membership)
    assert q.size == g.size == ap.size == 0 and q.dtype == g.dtype == np.int64 and ap.dtype == np.float64
    means, size = group_map(g, ap, 3)
    assert np.isnan(means).all() and size.tolist() == [0, 0, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        means, size = group_map(np.array([2, 0, 2, 2]), np.array([0.5, 0.25, 1.0, 0.0]), 4)
    assert means[0] == 0.25 and np.isnan(means[1]) and means[2] == 0.5 and np.isnan(means[3])
    assert size.tolist() == [1, 0, 3, 0]


# ---------------------------------------------------------------- the permutation null


def documented_null(k, n, size):
    """docs: size permutations of the ranks 1..n from default_rng([NULL_SEED, n, size]).permuted (row-wise, on
    the tiled ranks); each null AP is that of the first k ranks: mean over m of m / (m-th smallest rank)."""
    rng = np.random.default_rng([NULL_SEED, n, size])
    ranks = rng.permuted(np.tile(np.arange(1, n + 1, dtype=np.int64), (size, 1)), axis=1)[:, :k]
    out = []
    for row in ranks:
        total = 0.0
        for m, r in enumerate(sorted(row.tolist()), start=1):
            total += m / r
        out.append(total / k)
    return np.sort(np.array(out))


def exact_atoms(k, n):
    """The AP of every k-subset of the ranks 1..n: the values the null can take."""
    return np.unique(
        [np.mean([(m + 1) / r for m, r in enumerate(ranks)]) for ranks in itertools.combinations(range(1, n + 1), k)]
    )


@pytest.mark.parametrize("k, n", [(1, 1), (1, 2), (2, 3), (3, 7), (4, 8), (8, 8), (5, 9), (2, 16), (3, 17)])
def test_null_is_the_documented_draw(k, n):
    clear_cache()
    null = null_average_precision(k, n, 200)
    expected = documented_null(k, n, 200)
    assert null.shape == (200,) and not null.flags.writeable
    np.testing.assert_allclose(null, expected, rtol=0, atol=1e-12)
    atoms = exact_atoms(k, n)
    assert np.abs(null[:, None] - atoms[None, :]).min(axis=1).max() < 1e-12  # every draw is a possible AP
    if k == n:
        np.testing.assert_allclose(null, 1.0, rtol=0, atol=1e-12)


def test_null_tables_grow_without_changing_the_draws():
    clear_cache()
    small = null_average_precision(2, 9, 100).copy()
    large = null_average_precision(6, 9, 100)  # a larger table of the same n is built now
    again = null_average_precision(2, 9, 100)
    np.testing.assert_allclose(large, documented_null(6, 9, 100), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(again, small)
    clear_cache()
    np.testing.assert_array_equal(null_average_precision(2, 9, 100), small)


@pytest.mark.parametrize("k, n", [(0, 5), (6, 5), (-1, 3)])
def test_null_refuses_impossible_counts(k, n):
    with pytest.raises(ValueError) as error:
        null_average_precision(k, n)
    assert str(error.value) == f"need 1 <= positives <= candidates, got {k} of {n}"


def test_query_p_values_against_the_documented_null():
    clear_cache()
    size = 99
    ap = np.array([0.9, np.nan, 0.3, 1.0, 0.5, 0.6, 0.0])
    positives = np.array([2, 2, 2, 3, 1, 3, 1])
    candidates = np.array([10, 10, 10, 3, 2, 12, 12])
    p = query_p_values(ap, positives, candidates, size=size)
    assert p.shape == (7,) and np.isnan(p[1])
    for i in (0, 2, 3, 4, 5, 6):
        null = documented_null(positives[i], candidates[i], size)
        expected = (1 + np.count_nonzero(null >= ap[i] - TIE_TOLERANCE)) / (1 + size)
        assert p[i] == pytest.approx(expected, abs=1e-15), i
    assert p[3] == 1.0 and p[6] == 1.0  # every null is as good: three of three; nothing is worse than AP 0


def test_query_p_values_tie_tolerance_and_no_queries():
    clear_cache()
    # one positive among 2 candidates: the null APs are 1 (rank 1) and 0.5 (rank 2)
    null = null_average_precision(1, 2, 50)
    halves = np.count_nonzero(null == 0.5)
    assert 0 < halves < 50 and np.count_nonzero(null == 1.0) == 50 - halves
    just_above = 0.5 + TIE_TOLERANCE
    assert just_above - TIE_TOLERANCE == 0.5  # a null AP exactly at observed - tolerance counts as at least it
    p = query_p_values(np.array([just_above, 0.5 + 3 * TIE_TOLERANCE]), np.array([1, 1]), np.array([2, 2]), size=50)
    assert p.tolist() == [1.0, (1 + 50 - halves) / 51]
    # six of six: every null AP is 1, some summed to just below it; AP 1 given in any float type has p = 1
    assert null_average_precision(6, 6, 50).min() < 1.0
    for ap in (np.array([1.0]), np.array([1.0], dtype=np.float32), [1]):
        assert query_p_values(ap, np.array([6]), np.array([6]), size=50).tolist() == [1.0]
    assert np.isnan(query_p_values(np.array([np.nan]), np.array([1]), np.array([2]), size=50)).all()
    assert query_p_values(np.zeros(0), np.zeros(0, int), np.zeros(0, int), size=50).shape == (0,)


def test_positives_per_query_and_fraction_retrieved_by_hand():
    membership = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [1, 1, 0]])
    # 0 shares with 1, 5; 1 with 0, 2, 5; 2 with 1, 5; 3 alone in its group; 4 in no group; 5 with 0, 1, 2
    got = positives_per_query(membership)
    assert got.tolist() == [2, 3, 2, 0, 0, 3] and got.dtype == np.int64
    q = np.array([0.01, 0.05, np.nan, 0.2, 0.049999])
    assert fraction_retrieved(q) == 0.5  # q < 0.05 strictly
    assert fraction_retrieved(q, threshold=0.3) == 1.0
    assert fraction_retrieved(np.array([np.nan, np.inf])) is None and fraction_retrieved(np.zeros(0)) is None
