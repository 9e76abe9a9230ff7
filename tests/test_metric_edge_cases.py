"""Degenerate inputs of the metrics, each against scikit-learn or a plain loop: single clusters, singletons,
any label type, ties at the top of a ranking. (The main comparisons are in test_metrics.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, is_valid_linkage, linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import adjusted_mutual_info_score

from repbench.metrics.ami import adjusted_mutual_info, ami_of_cuts, best_cut_ami, tree_cuts


@pytest.mark.parametrize(
    "true, pred",
    [
        ([0, 0, 1, 1, 2, 2, 2], [5] * 7),  # one predicted cluster
        ([3] * 6, [0, 1, 1, 2, 2, 2]),  # one true class
        ([1] * 5, [2] * 5),  # one cluster each: identical
        (list(range(9)), list(range(9))),  # singletons each
        (list(range(8)), [0, 0, 1, 1, 2, 2, 3, 3]),
        (["a", "b", "a", "c", "c", "b"], [1, 2, 1, 3, 3, 3]),  # any label type
        ([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]),  # worse than chance: negative
        ([0, 0, 1, 1, 1, 2, 2, 2, 2], [7, 7, 7, 7, 8, 8, 8, 9, 9]),
    ],
)
def test_adjusted_mutual_info_degenerate_labelings(true, pred):
    expected = adjusted_mutual_info_score(true, pred)
    assert adjusted_mutual_info(np.array(true), np.array(pred)) == pytest.approx(expected, abs=1e-12)
    assert adjusted_mutual_info(np.array(pred), np.array(true)) == pytest.approx(expected, abs=1e-12)  # symmetric


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 9])
def test_identical_trivial_partitions_are_a_perfect_match(n):
    # singletons each / one cluster each: AMI is 0/0 (MI = E[MI] = both entropies); 1, as scikit-learn >= 1.7
    # gives (its clipped numerator), whatever the rounding of MI - E[MI] (it was 0.0 for n = 2 and 3, 1.0 above)
    assert adjusted_mutual_info(np.arange(n), np.arange(n)[::-1] * 7) == 1.0
    assert adjusted_mutual_info(np.zeros(n), np.ones(n)) == 1.0


@pytest.mark.parametrize(
    "true, pred",
    [
        ([0, 0, 1], [7, 7, 7]),  # one predicted cluster
        ([0, 0, 1, 1, 1, 2], [4] * 6),
        ([3] * 6, [0, 1, 1, 2, 2, 2]),  # one true class
        ([1] * 8, [0, 0, 0, 1, 2, 3, 4, 4]),
        ([0] * 63 + [1] * 66, [2] * 129),  # here the cells' MI terms sum to 5e-16, not 0
    ],
)
def test_one_cluster_against_several_is_exactly_zero(true, pred):
    # MI = E[MI] = 0: AMI 0.0 exactly (scikit-learn's limit case), not the rounding residue of log n + log a - ...
    assert adjusted_mutual_info(np.array(true), np.array(pred)) == 0.0
    assert adjusted_mutual_info(np.array(pred), np.array(true)) == 0.0


def test_ami_of_cuts_returns_one_float64_per_cut():
    got = ami_of_cuts(np.array([0, 0, 1, 1]), np.array([[0, 0, 1, 1], [0, 0, 0, 0], [3, 2, 1, 0]]))
    assert got.dtype == np.float64 and got.shape == (3,)
    assert got[0] == pytest.approx(1.0, abs=1e-15) and got[1] == 0.0


def test_tree_cuts_name_each_cluster_after_its_larger_part():
    #  merge 0: leaves 2, 3 (equal: 2's id), merge 1: leaves 1, 0 (equal: 1's id), merge 2: leaf 4 and {2, 3}
    #  (the larger part, listed second: its id 2), merge 3: {1, 0} and {2, 3, 4} (the larger, second: 2)
    tree = np.array([[2, 3, 0.1, 2], [1, 0, 0.2, 2], [4, 5, 0.3, 3], [6, 7, 0.4, 5]], dtype=float)
    assert is_valid_linkage(tree)
    cuts = tree_cuts(tree, [0, 1, 2, 3, 4])
    assert [c.tolist() for c in cuts] == [
        [0, 1, 2, 3, 4],
        [0, 1, 2, 2, 4],
        [1, 1, 2, 2, 4],
        [1, 1, 2, 2, 2],
        [2, 2, 2, 2, 2],
    ]
    assert [c.tolist() for c in tree_cuts(tree, [2, 4])] == [[1, 1, 2, 2, 4], [2, 2, 2, 2, 2]]  # any subset of k


def _condensed(m: int, pairs: dict[tuple[int, int], float], other: float) -> np.ndarray:
    d = np.full((m, m), other)
    for (i, j), v in pairs.items():
        d[i, j] = d[j, i] = v
    np.fill_diagonal(d, 0.0)
    return squareform(d)


def test_best_cut_ami_cuts_at_a_merge_height_with_every_merge_of_that_height():
    # three pairs merge at height 1.0 (the lowest threshold): that cut is the labels; the next merge (1.01) is below
    # the second threshold, so only t = 1.0 itself sees the perfect cut (fcluster: cophenetic distance <= t)
    labels = np.array([0, 0, 1, 1, 2, 2])
    near = {(0, 1): 1.0, (2, 3): 1.0, (4, 5): 1.0, (0, 2): 1.01, (0, 3): 1.01, (1, 2): 1.01, (1, 3): 1.01}
    d = _condensed(6, near, 10.0)
    assert best_cut_ami(labels, d) == pytest.approx(1.0, abs=1e-12)
    assert _loop_best_cut(labels, d) == pytest.approx(1.0, abs=1e-12)


def test_best_cut_ami_uses_100_thresholds_by_default():
    # merges at 1.0, 1.05, 1.0905, 1.17, 10: the labels are the cut for t in [1.0905, 1.17), which holds the second
    # of 100 thresholds from 1 to 10 (1.0909) but none of 101 (1.09, 1.18)
    labels = np.array([0, 0, 1, 1, 2, 2])
    near = {(0, 1): 1.0, (2, 3): 1.05, (4, 5): 1.0905, (0, 2): 1.17, (0, 3): 1.17, (1, 2): 1.17, (1, 3): 1.17}
    d = _condensed(6, near, 10.0)
    assert best_cut_ami(labels, d) == pytest.approx(1.0, abs=1e-12)
    assert best_cut_ami(labels, d, 100) == pytest.approx(_loop_best_cut(labels, d, 100), abs=1e-12)
    assert best_cut_ami(labels, d, 101) == pytest.approx(_loop_best_cut(labels, d, 101), abs=1e-12)
    assert best_cut_ami(labels, d, 101) < 0.9


def test_best_cut_ami_uses_average_linkage():
    # pairs A = {0, 1}, B = {2, 3}, C = {4, 5}; one close A-B pair (2) pulls A and B together under single linkage,
    # but on average A-B is 8 and A-C 5: average linkage merges A with C first
    near = {(0, 1): 1.0, (2, 3): 1.0, (4, 5): 1.0, (1, 2): 2.0}
    near.update({(i, j): 5.0 for i in (0, 1) for j in (4, 5)})
    d = _condensed(6, near, 10.0)
    assert best_cut_ami(np.array([0, 0, 1, 1, 0, 0]), d) == pytest.approx(1.0, abs=1e-12)  # A + C, B
    a_with_b = np.array([0, 0, 0, 0, 1, 1])
    assert best_cut_ami(a_with_b, d) == pytest.approx(_loop_best_cut(a_with_b, d), abs=1e-12)
    assert best_cut_ami(a_with_b, d) < 0.9


def _loop_best_cut(labels, d, n_thresholds=100):
    tree = linkage(d, "average")
    h = tree[:, 2]
    return max(
        adjusted_mutual_info_score(labels, fcluster(tree, t, criterion="distance"))
        for t in np.linspace(h.min(), h.max(), n_thresholds)
    )


@pytest.mark.parametrize("kind", ["one class", "all distinct", "two classes", "few thresholds"])
def test_best_cut_ami_degenerate_labelings(kind, rng):
    x = rng.standard_normal((30, 3))
    labels = {
        "one class": np.zeros(30, int),
        "all distinct": np.arange(30),
        "two classes": np.arange(30) % 2,
        "few thresholds": rng.integers(0, 4, 30),
    }[kind]
    x[:, 0] += 3 * labels if kind != "all distinct" else 0
    n_thresholds = 3 if kind == "few thresholds" else 100
    d = pdist(x)
    assert best_cut_ami(labels, d, n_thresholds) == pytest.approx(_loop_best_cut(labels, d, n_thresholds), abs=1e-10)


# ---- average precision: thresholds, no positives, the thinned curve ---------------------------------------


def test_positive_thresholds_by_hand():
    from repbench.metrics.average_precision import positive_thresholds

    all_sorted = np.array([1, 2, 2, 3, 3, 3, 5])
    tp, n = positive_thresholds(all_sorted, np.array([2, 3, 3, 5]))  # distinct positive scores 5, 3, 2
    assert tp.tolist() == [1, 3, 4] and n.tolist() == [1, 4, 6]
    tp, n = positive_thresholds(all_sorted, np.array([1, 2, 3]))
    assert tp.tolist() == [1, 2, 3] and n.tolist() == [4, 6, 7]
    tp, n = positive_thresholds(all_sorted, np.array([3, 3]))
    assert tp.tolist() == [2] and n.tolist() == [4]
    empty = positive_thresholds(all_sorted, np.array([], dtype=np.int64))
    assert empty[0].size == 0 and empty[1].size == 0


def test_average_precision_without_positives_is_nan():
    from repbench.metrics.average_precision import average_precision

    assert np.isnan(average_precision(np.array([], dtype=np.int64), np.array([], dtype=np.int64)))
    assert average_precision(np.array([1]), np.array([4])) == 0.25  # one positive, ranked 4th (ties included)


def _thin_reference(precision, recall, max_points):
    """Plain loop: for each of max_points recalls evenly spaced from the first to the last, the first curve point
    at or after it (once each), rounded to 5 decimals."""
    if len(recall) <= max_points:
        keep = list(range(len(recall)))
    else:
        keep = []
        for target in np.linspace(recall[0], recall[-1], max_points):
            i = next((i for i, r in enumerate(recall) if r >= target), len(recall) - 1)
            if i not in keep:
                keep.append(i)
    return {
        "recall": [round(float(recall[i]), 5) for i in keep],
        "precision": [round(float(precision[i]), 5) for i in keep],
    }


@pytest.mark.parametrize("points, max_points", [(5, 201), (201, 201), (202, 201), (5000, 201), (50, 7), (8, 7)])
def test_thin_curve_against_a_plain_loop(points, max_points, rng):
    from repbench.metrics.average_precision import thin_curve

    recall = np.sort(rng.random(points))
    recall[-1] = 1.0
    precision = rng.random(points)
    got = thin_curve(precision, recall, max_points) if max_points != 201 else thin_curve(precision, recall)
    expected = _thin_reference(precision, recall, max_points)
    assert got == expected
    assert len(got["recall"]) <= max_points and got["recall"][-1] == 1.0 and got["recall"][0] == round(recall[0], 5)


# ---- fixed-point correlation --------------------------------------------------------------------------------


def test_integer_dots_and_correlation(rng):
    from repbench.metrics.correlation import CORRELATION_UNIT, correlation, integer_dots, unit_vectors_fixed

    x = unit_vectors_fixed(rng.standard_normal((5, 9)))
    y = unit_vectors_fixed(rng.standard_normal((3, 9)))
    dots = integer_dots(x, y)
    assert dots.dtype == np.int64 and dots.shape == (5, 3)
    assert np.array_equal(dots, np.rint(x @ y.T).astype(np.int64))
    assert np.array_equal(correlation(x, y), dots * CORRELATION_UNIT)
    assert np.allclose(np.diag(correlation(x, x)), 1.0, atol=1e-7)


def test_fixed_point_vectors_are_float64_for_any_input_type(rng):
    from repbench.metrics.correlation import unit_vectors_fixed

    x = rng.standard_normal((4, 7))
    expected = unit_vectors_fixed(x)
    for typed in (x.astype(np.longdouble), x.tolist()):
        got = unit_vectors_fixed(typed)
        assert got.dtype == np.float64 and np.array_equal(got, expected)
