"""Each metric against hand-computed values and against a plain reference implementation."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_mutual_info_score, average_precision_score, precision_recall_curve

from repbench.metrics.ami import adjusted_mutual_info, best_cut_ami, tree_cuts
from repbench.metrics.average_precision import average_precision, positive_thresholds, precision_recall
from repbench.metrics.correlation import CORRELATION_UNIT, unit_vectors_fixed
from repbench.metrics.f_beta import best_f_beta
from repbench.metrics.query_ap import bootstrap_interval, query_average_precision


def _ap(scores, labels):
    scores, labels = np.asarray(scores), np.asarray(labels, bool)
    order = np.sort(scores)
    return average_precision(*positive_thresholds(order, np.sort(scores[labels])))


def test_average_precision_by_hand():
    # ranking: 0.9 (+), 0.8 (-), 0.7 (+): AP = (1/1 + 2/3) / 2
    assert _ap([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2, abs=1e-15)


def test_average_precision_ties_enter_together():
    # a positive tied with a negative at the top: precision there is 1/2, not 1
    assert _ap([5, 5, 1], [1, 0, 1]) == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-15)
    assert _ap([5, 5, 1], [1, 0, 1]) == pytest.approx(average_precision_score([1, 0, 1], [5, 5, 1]), abs=1e-15)


def test_average_precision_matches_sklearn_with_many_ties(rng):
    for _ in range(30):
        n = int(rng.integers(5, 400))
        scores = rng.integers(0, 12, n)  # heavy ties
        labels = rng.random(n) < 0.3
        if not labels.any():
            continue
        assert _ap(scores, labels) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_best_f05_by_hand_and_against_sklearn(rng):
    # points: P=1,R=0.5 -> F=1.25*.5/(.25+.5)=0.8333; P=2/3,R=1 -> 1.25*(2/3)/(1/6+1)=0.714
    scores, labels = np.array([3, 2, 1]), np.array([True, False, True])
    p, r = precision_recall(*positive_thresholds(np.sort(scores), np.sort(scores[labels])))
    assert best_f_beta(p, r) == pytest.approx(1.25 * 0.5 / (0.25 + 0.5))
    for _ in range(20):
        n = int(rng.integers(5, 300))
        scores = rng.integers(0, 30, n)
        labels = rng.random(n) < 0.2
        if not labels.any():
            continue
        p, r = precision_recall(*positive_thresholds(np.sort(scores), np.sort(scores[labels])))
        sp, sr, _ = precision_recall_curve(labels, scores)
        den = 0.25 * sp + sr
        expected = np.max(np.where(den > 0, 1.25 * sp * sr / np.where(den > 0, den, 1), 0))
        assert best_f_beta(p, r) == pytest.approx(expected, abs=1e-12)


def test_f_beta_zero_denominator():
    assert best_f_beta(np.array([0.0]), np.array([0.0])) == 0.0


def test_query_average_precision_against_sklearn_per_row(rng):
    b, n = 40, 60
    scores = rng.integers(-50, 50, size=(b, n)).astype(np.int64)  # ties on purpose
    positives = rng.random((b, n)) < 0.15
    exclude = np.zeros((b, n), bool)
    exclude[np.arange(b), np.arange(b)] = True
    got = query_average_precision(scores, positives, exclude)
    for q in range(b):
        keep = ~exclude[q]
        y = positives[q, keep]
        if not y.any():
            assert np.isnan(got[q])
        else:
            assert got[q] == pytest.approx(average_precision_score(y, scores[q, keep]), abs=1e-12)


def test_query_ap_refuses_too_many_rows():
    with pytest.raises(ValueError):
        query_average_precision(np.zeros((300, 3), np.int64), np.zeros((300, 3), bool), np.zeros((300, 3), bool))


def test_bootstrap_interval_brackets_the_mean_and_is_seeded(rng):
    values = rng.random(200)
    lo, hi = bootstrap_interval(values)
    assert lo < values.mean() < hi
    assert (lo, hi) == bootstrap_interval(values)
    # plain reference: resample with default_rng(0), percentiles 2.5 / 97.5
    idx = np.random.default_rng(0).integers(0, 200, size=(1000, 200))
    assert (lo, hi) == tuple(np.percentile(values[idx].mean(axis=1), [2.5, 97.5]))


def test_ami_by_hand_and_against_sklearn(rng):
    assert adjusted_mutual_info([0, 0, 1, 1], [5, 5, 7, 7]) == pytest.approx(1.0)
    assert adjusted_mutual_info([0, 0, 0, 0], [1, 1, 1, 1]) == 1.0
    for _ in range(40):
        n = int(rng.integers(20, 400))
        a = rng.integers(0, int(rng.integers(2, 15)), n)
        b = rng.integers(0, int(rng.integers(2, 50)), n)
        assert adjusted_mutual_info(a, b) == pytest.approx(adjusted_mutual_info_score(a, b), abs=1e-10)


def test_tree_cuts_equal_fcluster(rng):
    x = rng.standard_normal((60, 3))
    tree = linkage(pdist(x), "average")
    for k, cut in zip([0, 1, 10, 30, 59], tree_cuts(tree, [0, 1, 10, 30, 59])):
        t = tree[k - 1, 2] if k else -1.0
        expected = fcluster(tree, t, criterion="distance") if k else np.arange(60)
        # same partition: the two labelings determine each other
        assert adjusted_mutual_info_score(expected, cut) == pytest.approx(1.0)
        assert len(set(cut)) == 60 - k


def test_best_cut_ami_equals_the_per_threshold_loop(rng):
    x = rng.standard_normal((150, 4))
    labels = rng.integers(0, 8, 150)
    x[:, 0] += labels  # some structure
    d = pdist(x)
    tree = linkage(d, "average")
    h = tree[:, 2]
    expected = max(adjusted_mutual_info_score(labels, fcluster(tree, t, criterion="distance")) for t in np.linspace(h.min(), h.max(), 100))
    assert best_cut_ami(labels, d) == pytest.approx(expected, abs=1e-10)


def test_fixed_point_correlation_is_pearson_and_exactly_symmetric(rng):
    x = rng.standard_normal((30, 50)) * 1000 + 7
    z = unit_vectors_fixed(x)
    dots = z @ z.T
    assert np.array_equal(dots, dots.T)
    assert np.all(dots == np.rint(dots))  # integers: exact whatever the summation order
    assert np.allclose(dots * CORRELATION_UNIT, np.corrcoef(x), atol=1e-7)
    # summation order does not matter: reversed dimensions give the same bits
    assert np.array_equal(z[:, ::-1] @ z[:, ::-1].T, dots)
