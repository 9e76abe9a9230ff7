"""Each metric against hand-computed values and against a plain reference implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_mutual_info_score, average_precision_score, precision_recall_curve

from repbench.metrics.ami import adjusted_mutual_info, ami_of_cuts, best_cut_ami, mean_and_sd, tree_cuts
from repbench.metrics.average_precision import average_precision, positive_thresholds, precision_recall
from repbench.metrics.correlation import CORRELATION_UNIT, unit_vectors_fixed
from repbench.metrics.f_beta import best_f_beta
from repbench.metrics.portable import EXP_FLOOR, exp_portable, log_tables, ordered_column_sums, ordered_sums
from repbench.metrics.query_ap import bootstrap_interval, query_average_precision


def _left_to_right(values) -> float:
    total = 0.0
    for v in values:
        total += float(v)
    return total


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
    # plain reference: resample with default_rng(0), each mean a left-to-right sum / 200, percentiles 2.5 / 97.5
    idx = np.random.default_rng(0).integers(0, 200, size=(1000, 200))
    means = [_left_to_right(values[row]) / 200 for row in idx]
    assert (lo, hi) == tuple(np.percentile(means, [2.5, 97.5]))


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
    expected = max(
        adjusted_mutual_info_score(labels, fcluster(tree, t, criterion="distance"))
        for t in np.linspace(h.min(), h.max(), 100)
    )
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


def test_fixed_point_vectors_equal_a_plain_left_to_right_reference(rng):
    x = (rng.standard_normal((25, 301)) * rng.uniform(1e-3, 1e3, (25, 1))).astype(np.float32)
    expected = []
    for row in x.astype(np.float64):
        centred = row - _left_to_right(row) / row.size
        norm = math.sqrt(_left_to_right(centred * centred))
        expected.append([float(np.rint(c / norm * 2.0**26)) for c in centred])
    assert np.array_equal(unit_vectors_fixed(x), np.array(expected))  # bit for bit


def test_ordered_sums_add_left_to_right(rng):
    values = rng.standard_normal(5000) * 10.0 ** rng.integers(-8, 8, 5000)  # order-sensitive in the last bits
    segment = rng.integers(0, 7, 5000)
    got = ordered_sums(segment, values, 9)
    assert got.tolist() == [_left_to_right(values[segment == s]) for s in range(9)]  # bit for bit, 0 for empty
    matrix = values.reshape(50, 100)
    assert ordered_column_sums(matrix).tolist() == [_left_to_right(matrix[:, j]) for j in range(100)]


def test_exp_portable_within_one_ulp_of_libm(rng):
    x = np.concatenate(
        [rng.uniform(EXP_FLOOR, 5, 20000), rng.uniform(-1e-6, 1e-6, 1000), rng.uniform(5, 700, 2000)]
        + [[0.0, -0.0, EXP_FLOOR, 700.0, 5e-324, -5e-324, math.log(2), -math.log(2), 0.5 * math.log(2)]]
    )  # the whole documented domain EXP_FLOOR..700, its ends, +-0, the reduction's steps at multiples of ln 2 / 2
    expected = np.array([math.exp(v) for v in x])
    assert np.all(np.abs(exp_portable(x) - expected) <= np.spacing(expected))
    assert exp_portable(np.array([0.0]))[0] == 1.0
    assert exp_portable(np.array([EXP_FLOOR - 1e-9, -np.inf])).tolist() == [0.0, 0.0]
    # float64 whatever the input: float32 and integer arguments are converted first, then the same bits
    x32 = x.astype(np.float32)
    assert exp_portable(x32).dtype == np.float64
    assert np.array_equal(exp_portable(x32), exp_portable(x32.astype(np.float64)))
    assert exp_portable([0, 1, -2]).tolist() == exp_portable(np.array([0.0, 1.0, -2.0])).tolist()


def test_log_tables_are_correctly_rounded_logs_and_log_factorials():
    from decimal import Context, Decimal

    fine = Context(prec=60)  # plain reference: 60 digits, summed term by term
    log_k, log_fact = log_tables(5000)
    assert log_k[0] == 0.0 and log_fact[0] == 0.0 and log_k[1] == 0.0 and log_fact[1] == 0.0
    total, checked = Decimal(0), {2, 3, 4, 5, 6, 7, 8, 9, 10, 64, 97, 1000, 1024, 2311, 4999, 5000}
    for k in range(2, 5001):
        ln = fine.ln(Decimal(k))
        total = fine.add(total, ln)
        if k in checked:
            assert log_k[k] == float(ln) and log_fact[k] == float(total), k
            assert abs(log_k[k] - math.log(k)) <= np.spacing(math.log(k))  # and libm agrees within an ulp
    # an entry never depends on how far the table was built
    before = log_fact[:5001].copy()
    assert np.array_equal(log_tables(40000)[1][:5001], before)


@pytest.fixture
def cold_log_tables(monkeypatch):
    """log_tables as in a fresh process: nothing built yet (the tables are cached per process, so without this
    only the first caller of a session would ever build them)."""
    from repbench.metrics import portable

    monkeypatch.setattr(portable, "_tables", (np.zeros(1), np.zeros(1)))
    return log_tables


def test_log_tables_built_from_scratch_hold_every_entry_and_grow_unchanged(cold_log_tables):
    # every returned entry k (not only k <= n) is log(k) and log(k!): libm within an ulp / lgamma within 1e-14
    def check(log_k, log_fact):
        assert log_k.shape == log_fact.shape
        assert log_k[:2].tolist() == [0.0, 0.0] and log_fact[:2].tolist() == [0.0, 0.0]
        for k in range(2, log_k.size):
            assert abs(log_k[k] - math.log(k)) <= np.spacing(math.log(k)), k
            assert log_fact[k] == pytest.approx(math.lgamma(k + 1), rel=1e-14, abs=0), k

    log_k, log_fact = cold_log_tables(5)
    assert log_k.size >= 6
    check(log_k, log_fact)
    assert log_k[2] == 0.6931471805599453 and log_fact[4] == 3.1780538303479458  # log 2, log 24: correctly rounded
    first = log_k.copy(), log_fact.copy()
    grown = cold_log_tables(log_k.size)  # one entry past the table: it is rebuilt larger
    assert grown[0].size > log_k.size
    check(*grown)
    assert np.array_equal(grown[0][: log_k.size], first[0]) and np.array_equal(grown[1][: log_k.size], first[1])
    far = 3 * grown[0].size  # more than twice the table: it is built to n at least
    assert cold_log_tables(far)[0].size > far and cold_log_tables(far)[1].size > far
    check(*cold_log_tables(far))


def test_ami_right_after_a_fresh_table(cold_log_tables, rng):
    # n = 1023: a fresh table holds k = 0..1023, so AMI must take no log(k) or log(k!) past k = n
    n = 1023
    cold_log_tables(n)
    assert adjusted_mutual_info(np.zeros(n), np.zeros(n)) == 1.0  # one class, one cluster: E[MI] term a = b = n
    a, b = rng.integers(0, 3, n), rng.integers(0, 2, n)
    assert adjusted_mutual_info(a, b) == pytest.approx(adjusted_mutual_info_score(a, b), abs=1e-10)


def test_ami_of_cuts_against_sklearn_row_by_row(rng):
    n = 300
    labels = rng.integers(0, 12, n)
    cuts = np.array([rng.integers(0, c, n) for c in (1, 2, 5, 40, 150, 300)] + [np.arange(n)])
    got = ami_of_cuts(np.unique(labels, return_inverse=True)[1], cuts)
    for row, value in zip(cuts, got):
        assert value == pytest.approx(adjusted_mutual_info_score(labels, row), abs=1e-12)
    assert ami_of_cuts(np.zeros(5, np.int64), np.zeros((1, 5), np.int64)).tolist() == [1.0]


def test_mean_and_sd_skip_nan_and_use_the_population_sd():
    mean, sd = mean_and_sd([0.1, float("nan"), 0.3, 0.2])
    assert mean == pytest.approx(0.2, abs=1e-16) and sd == pytest.approx(np.std([0.1, 0.3, 0.2]), abs=1e-16)
    assert mean_and_sd([float("nan")]) == (None, None)
    # fsum: the same bits in any order
    values = [0.1, 1e-17, 0.7, 1e16, -1e16, 0.3]
    assert mean_and_sd(values) == mean_and_sd(values[::-1])
