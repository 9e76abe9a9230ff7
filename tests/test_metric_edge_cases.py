"""Degenerate inputs of the metrics, each against scikit-learn or a plain loop: single clusters, singletons,
any label type, ties at the top of a ranking. (The main comparisons are in test_metrics.py.)"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_mutual_info_score

from repbench.metrics.ami import adjusted_mutual_info, best_cut_ami


@pytest.mark.parametrize("true, pred", [
    ([0, 0, 1, 1, 2, 2, 2], [5] * 7),  # one predicted cluster
    ([3] * 6, [0, 1, 1, 2, 2, 2]),  # one true class
    ([1] * 5, [2] * 5),  # one cluster each: identical
    (list(range(9)), list(range(9))),  # singletons each
    (list(range(8)), [0, 0, 1, 1, 2, 2, 3, 3]),
    (["a", "b", "a", "c", "c", "b"], [1, 2, 1, 3, 3, 3]),  # any label type
    ([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]),  # worse than chance: negative
    ([0, 0, 1, 1, 1, 2, 2, 2, 2], [7, 7, 7, 7, 8, 8, 8, 9, 9]),
])
def test_adjusted_mutual_info_degenerate_labelings(true, pred):
    expected = adjusted_mutual_info_score(true, pred)
    assert adjusted_mutual_info(np.array(true), np.array(pred)) == pytest.approx(expected, abs=1e-12)
    assert adjusted_mutual_info(np.array(pred), np.array(true)) == pytest.approx(expected, abs=1e-12)  # symmetric


def _loop_best_cut(labels, d, n_thresholds=100):
    tree = linkage(d, "average")
    h = tree[:, 2]
    return max(adjusted_mutual_info_score(labels, fcluster(tree, t, criterion="distance"))
               for t in np.linspace(h.min(), h.max(), n_thresholds))


@pytest.mark.parametrize("kind", ["one class", "all distinct", "two classes", "few thresholds"])
def test_best_cut_ami_degenerate_labelings(kind, rng):
    x = rng.standard_normal((30, 3))
    labels = {"one class": np.zeros(30, int), "all distinct": np.arange(30), "two classes": np.arange(30) % 2,
              "few thresholds": rng.integers(0, 4, 30)}[kind]
    x[:, 0] += 3 * labels if kind != "all distinct" else 0
    n_thresholds = 3 if kind == "few thresholds" else 100
    d = pdist(x)
    assert best_cut_ami(labels, d, n_thresholds) == pytest.approx(_loop_best_cut(labels, d, n_thresholds), abs=1e-10)
