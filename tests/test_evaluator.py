"""The evaluator as a whole: against the straightforward implementation, and on embeddings whose answer is known."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import make_standards, orf_names
from reference_evaluator import reference_evaluate

from repbench.evaluator import evaluate_embedding

KEYS = ("ap", "f05", "map", "map_ci", "ami", "ami_sd", "prevalence", "positive_pairs", "proteins")


def test_equals_the_straightforward_implementation_on_real_standards(standards, rng):
    proteins = rng.choice(list(standards.reference_proteome), 160, replace=False).tolist()
    vectors = rng.standard_normal((160, 12))
    vectors[:, 0] += np.array([hash(p[:3]) % 5 for p in proteins])  # a little structure
    tiers = ["go_bp", "complex"]  # large overlapping groups and small ones; all four cost minutes in the yardstick
    fast = evaluate_embedding(proteins, vectors, standards, tiers=tiers)
    slow = reference_evaluate(proteins, vectors, standards, tiers=tiers)
    for tier in slow:
        for key in KEYS:
            assert np.allclose(fast[tier][key], slow[tier][key], rtol=0, atol=1e-9), (tier, key)


def _disjoint_modules(n_groups=12, size=8):
    names = orf_names(n_groups * size)
    groups = {f"G{g:02d}": names[g * size:(g + 1) * size] for g in range(n_groups)}
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
