"""The evaluator as a whole: against the independent reference, bit for bit across product paths, on known answers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_standards, orf_names
from reference_evaluator import ami_by_definition, reference_evaluate

from repbench.evaluator import DotProducts, _pairwise_scores, evaluate_embedding, score_tier
from repbench.metrics.correlation import unit_vectors_fixed
from repbench.metrics.query_ap import MAX_BLOCK_ROWS

COUNTS = ("proteins", "groups", "pairs", "positive_pairs", "map_queries")
SCORES = ("prevalence", "ap", "f05", "map", "map_ci", "ami", "ami_sd")


def _structured_table(standards, n, d, seed, in_every_tier=False):
    """n proteins (of the reference proteome, or of every tier) with vectors that carry some KEGG structure."""
    rng = np.random.default_rng(seed)
    pool = sorted(set.intersection(*(set(t.members) for t in standards.tiers.values()))) if in_every_tier else None
    proteins = sorted(rng.choice(pool or list(standards.reference_proteome), n, replace=False).tolist())
    vectors = rng.standard_normal((n, d))
    for g, members in enumerate(standards.tiers["kegg"].groups.values()):
        rows = [i for i, p in enumerate(proteins) if p in set(members)]
        vectors[rows, g % d] += 1.5
    return proteins, vectors


def test_equals_the_independent_reference_on_every_tier(standards):
    # > 255 proteins in every tier (2 query blocks of MAX_BLOCK_ROWS), but no more: the reference is slow
    proteins, vectors = _structured_table(standards, 270, 10, seed=7, in_every_tier=True)
    fast = evaluate_embedding(proteins, vectors, standards)
    slow = reference_evaluate(proteins, vectors, standards)
    assert set(fast) == set(slow) == set(standards.tiers)
    for tier in slow:
        assert fast[tier]["proteins"] > MAX_BLOCK_ROWS, tier
        for key in COUNTS:
            assert fast[tier][key] == slow[tier][key], (tier, key)
        for key in SCORES:
            assert np.allclose(fast[tier][key], slow[tier][key], rtol=0, atol=1e-9), (tier, key)


def test_the_references_ami_is_sklearns(rng):
    from sklearn.metrics import adjusted_mutual_info_score

    cases = [
        ([0, 0, 1, 1], [5, 5, 7, 7]),
        ([0, 0, 0, 0], [1, 1, 1, 1]),
        ([0, 0, 1, 1], [3, 3, 3, 3]),
        ([0, 1, 2, 3], [0, 1, 2, 3]),
    ]
    for _ in range(30):
        n = int(rng.integers(10, 300))
        cases.append((rng.integers(0, int(rng.integers(1, 20)), n), rng.integers(0, int(rng.integers(1, n)), n)))
    for u, v in cases:
        assert ami_by_definition(u, v) == pytest.approx(adjusted_mutual_info_score(u, v), abs=1e-12)


def test_pairwise_walk_across_query_blocks_equals_a_plain_per_query_reference(rng):
    # 600 queries = 3 blocks; every block must use its own rows of the membership and of the scores
    n, n_groups = 600, 40
    fixed = unit_vectors_fixed(rng.standard_normal((n, 6)))
    membership = (rng.random((n, n_groups)) < 0.04).astype(np.float32)
    all_pairs, positives, query_ap = _pairwise_scores(DotProducts(fixed), membership)
    dots = fixed.astype(np.int64) @ fixed.astype(np.int64).T  # integer product: no BLAS
    shares = (membership.astype(np.int64) @ membership.astype(np.int64).T) > 0
    iu = np.triu_indices(n, 1)
    assert np.array_equal(all_pairs, np.sort(dots[iu]))
    assert np.array_equal(positives, np.sort(dots[iu][shares[iu]]))
    for q in range(n):
        others = np.arange(n) != q
        s, y = dots[q, others], shares[q, others]
        if not y.any():
            assert np.isnan(query_ap[q]), q
            continue
        # AP_q: the mean over positives of (#positives scoring >= s) / (#items scoring >= s)
        expected = np.mean([np.sum(y & (s >= v)) / np.sum(s >= v) for v in s[y]])
        assert query_ap[q] == pytest.approx(expected, abs=1e-12), q


def _scores_with(dots, standards, proteins):
    return {t: score_tier(standards.tiers[t], proteins, dots) for t in standards.tiers}


def test_scores_do_not_depend_on_how_the_products_are_summed(standards):
    """The only float matrix products on the reported path are the fixed-point dot products (integers, exact in
    any order). Summed by BLAS in another order, block by block, or in int64 without BLAS: the same bits."""
    proteins, vectors = _structured_table(standards, 300, 24, seed=3)
    fixed = unit_vectors_fixed(vectors)
    expected = _scores_with(DotProducts(fixed), standards, proteins)
    reverse = np.ascontiguousarray(fixed[:, ::-1])  # every dot product summed in the opposite order
    shuffled = np.ascontiguousarray(fixed[:, np.random.default_rng(0).permutation(fixed.shape[1])])
    for variant in (
        DotProducts(fixed, full_matrix_bytes=0),  # the block-wise path (tables of more than ~11,600 proteins)
        DotProducts(reverse),
        DotProducts(shuffled, full_matrix_bytes=0),
        DotProducts(fixed.astype(np.int64)),  # numpy's integer matmul loop: no BLAS at all
    ):
        assert _scores_with(variant, standards, proteins) == expected  # bit for bit, pr_curve included


def test_block_wise_products_equal_the_full_matrix_bit_for_bit(standards, monkeypatch):
    proteins, vectors = _structured_table(standards, 700, 16, seed=11)
    full = evaluate_embedding(proteins, vectors, standards)
    monkeypatch.setattr(DotProducts.__init__, "__defaults__", (0,))  # FULL_MATRIX_BYTES = 0: blocks only
    assert DotProducts(unit_vectors_fixed(vectors[:3])).full is None
    assert evaluate_embedding(proteins, vectors, standards) == full


def test_reported_path_calls_no_cpu_dispatched_numpy_kernel(standards, monkeypatch):
    """numpy's log/exp (and sum/mean reductions) pick SIMD kernels by CPU; the evaluator must not call them."""
    proteins, vectors = _structured_table(standards, 200, 8, seed=5)
    expected = evaluate_embedding(proteins, vectors, standards)

    def refuse(*args, **kwargs):
        raise AssertionError("a CPU-dependent kernel was called on the reported path")

    import scipy.special

    for name in ("log", "exp", "log1p", "expm1", "log2", "sum", "mean", "nanmean", "nanstd", "std", "dot", "einsum"):
        monkeypatch.setattr(np, name, refuse)
    monkeypatch.setattr(scipy.special, "gammaln", refuse)
    assert evaluate_embedding(proteins, vectors, standards) == expected


def _disjoint_modules(n_groups=12, size=8):
    names = orf_names(n_groups * size)
    groups = {f"G{g:02d}": names[g * size : (g + 1) * size] for g in range(n_groups)}
    return names, groups


def test_near_perfect_embedding_scores_near_one(rng):
    names, groups = _disjoint_modules()
    st = make_standards({"complex": groups})
    onehot = np.zeros((len(names), len(groups)))
    for g, (_, members) in enumerate(sorted(groups.items())):
        onehot[[names.index(m) for m in members], g] = 1.0
    scores = evaluate_embedding(names, onehot + 0.01 * rng.standard_normal(onehot.shape), st)["complex"]
    assert scores["map"] > 0.99 and scores["ap"] > 0.99 and scores["f05"] > 0.99
    assert scores["ami"] > 0.99 and scores["ami_sd"] < 0.01
    assert scores["prevalence"] == pytest.approx((12 * 28) / (96 * 95 / 2))


def test_random_vectors_score_at_chance(standards, rng):
    proteins = list(standards.reference_proteome)[:1500]
    scores = evaluate_embedding(proteins, rng.standard_normal((1500, 64)), standards)
    for tier, s in scores.items():
        assert s["ap"] == pytest.approx(s["prevalence"], rel=0.25), tier
        assert s["ami"] < 0.03, tier


def test_deterministic_bit_for_bit(standards, rng):
    proteins = list(standards.reference_proteome)[:400]
    vectors = rng.standard_normal((400, 20)).astype(np.float32)
    a = evaluate_embedding(proteins, vectors, standards)
    b = evaluate_embedding(proteins[::-1], vectors[::-1], standards)  # row order must not matter
    assert a == b


def test_tier_without_pairs_is_skipped_with_a_reason(rng):
    names, groups = _disjoint_modules(3, 4)
    st = make_standards({"kegg": groups, "complex": {"C1": names[:2]}})
    subset = names[2:]  # complex C1 loses both members
    scores = evaluate_embedding(subset, rng.standard_normal((len(subset), 5)), st)
    assert scores["complex"]["skipped"] and scores["complex"]["ap"] is None
    assert scores["kegg"]["ap"] is not None


def test_unknown_tier_is_a_usage_error(standards, rng):
    from repbench.errors import UsageError

    with pytest.raises(UsageError) as err:
        evaluate_embedding(["YAL001C"] * 1, rng.standard_normal((1, 3)), standards, tiers=["nope"])
    assert err.value.code == "unknown-tier" and err.value.exit_code == 2
