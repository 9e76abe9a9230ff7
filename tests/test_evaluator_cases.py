"""The evaluator on tables small enough to score by hand: every field of a tier, the record, the product paths.

Fast on purpose (mutation testing runs these first for every evaluator mutant): seven proteins whose pairwise
correlations are chosen, so each score below is worked out by hand from docs/evaluation.md.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import make_standards
from reference_evaluator import reference_evaluate

from repbench import EVALUATOR_VERSION, evaluator, results
from repbench.errors import UsageError
from repbench.evaluator import (
    DotProducts,
    _ami_draws,
    check_tiers,
    coverage,
    evaluate_embedding,
    evaluate_table,
    score_tier,
)
from repbench.metrics.correlation import unit_vectors_fixed
from repbench.table import ProteinTable

PROTEINS = ["A", "B", "C", "D", "E", "F", "G", "X"]
#: the correlation of each pair, highest first; the 10 pairs of F or G with A..E and all pairs with X lie below
RANKED = [("F", "G"), ("A", "B"), ("A", "E"), ("C", "D"), ("A", "C"), ("B", "D"), ("B", "C")]
RANKED += [("A", "D"), ("B", "E"), ("C", "E"), ("D", "E")]
#: complex: G1 and G2 overlap in C, G3 is a singleton, G4's only member is not submitted; kegg: X with A
TIERS = {
    "complex": {"G1": ["A", "B", "C"], "G2": ["C", "D"], "G3": ["E"], "G4": ["Z"], "G5": ["F", "G"]},
    "kegg": {"K1": ["X", "A"]},
}


def _hand_vectors() -> np.ndarray:
    """Vectors (8, 16) whose correlation matrix is the chosen one: V V^T = R, and [V, -V] has mean 0 per row."""
    correlation = np.zeros((8, 8))
    below = iter(np.linspace(0.4, 0.0, 17))
    chosen = {pair: 0.95 - 0.05 * k for k, pair in enumerate(RANKED)}
    for i in range(8):
        for j in range(i + 1, 8):
            value = chosen.get((PROTEINS[i], PROTEINS[j]))
            correlation[i, j] = correlation[j, i] = next(below) if value is None else value
    correlation = (correlation + 1.2 * np.eye(8)) / 1.2  # positive definite, same order of the pairs
    w, u = np.linalg.eigh(correlation)
    v = u * np.sqrt(w)
    return np.hstack([v, -v])


# complex, by hand. Positive pairs AB, AC, BC, CD, FG rank 2, 5, 7, 4, 1 among the 21 pairs of A..G.
AP = (1 / 1 + 2 / 2 + 3 / 4 + 4 / 5 + 5 / 7) / 5  # precision at each positive's rank
F05 = 1.25 * 0.8 * 0.8 / (0.25 * 0.8 + 0.8)  # best at the 4th positive: P = 4/5, R = 4/5
# per query (ranked among the 6 others): A: B, E, C -> (1 + 2/3) / 2; B: A, D, C -> same; C: D, A, B -> 1;
# D: C -> 1; F: G and G: F -> 1; E shares no group: no query
QUERY_AP = [5 / 6, 5 / 6, 1.0, 1.0, 1.0, 1.0]
# per (query, group) of >= 2 members, positives the group's other members: G1: A 5/6, B 5/6, C (D, A, B) 7/12
COMPLEX = {
    "proteins": 7,
    "groups": 4,  # G1, G2, G3, G5 (G4 has no submitted member)
    "pairs": 21,
    "positive_pairs": 5,
    "prevalence": 5 / 21,
    "ap": AP,
    "f05": F05,
    "map": 17 / 18,
    "map_queries": 6,
    "ami": 1.0,  # every draw takes G1 or G2 (overlapping) and G5: average linkage separates them perfectly
    "ami_sd": 0.0,
    "fraction_retrieved": 0.0,  # 6 candidates: a query at the top has p ~ 1/6, nowhere near q < 0.05
    "group_map": {"G1": [(5 / 6 + 5 / 6 + 7 / 12) / 3, 3], "G2": [1.0, 2], "G5": [1.0, 2]},
    "pr_curve": {"recall": [0.2, 0.4, 0.6, 0.8, 1.0], "precision": [1.0, 1.0, 0.75, 0.8, 0.71429]},
}
# kegg: exactly two proteins and one positive pair: everything perfect
KEGG = {
    "proteins": 2,
    "groups": 1,
    "pairs": 1,
    "positive_pairs": 1,
    "prevalence": 1.0,
    "ap": 1.0,
    "f05": 1.0,
    "map": 1.0,
    "map_ci": [1.0, 1.0],
    "map_queries": 2,
    "ami": 1.0,  # one group of two: the one-cluster cut matches it
    "ami_sd": 0.0,
    "fraction_retrieved": 0.0,
    "group_map": {"K1": [1.0, 2]},
    "pr_curve": {"recall": [1.0], "precision": [1.0]},
}


def _bootstrap_reference(values: list[float]) -> list[float]:
    """docs/evaluation.md step 6: 1000 resamples of the query APs with default_rng(0), 2.5 / 97.5 percentiles."""
    values = np.array(values)
    idx = np.random.default_rng(0).integers(0, values.size, size=(1000, values.size))
    return np.percentile([float(np.sum(values[row])) / values.size for row in idx], [2.5, 97.5]).tolist()


def _assert_scores(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, value in expected.items():
        if key in ("proteins", "groups", "pairs", "positive_pairs", "map_queries"):
            assert type(got[key]) is int and got[key] == value, key  # integers in the record, not 21.0
        elif key == "group_map":
            assert list(got[key]) == list(value)
            for g, (mean, size) in value.items():
                assert got[key][g][0] == pytest.approx(mean, abs=1e-12) and type(got[key][g][1]) is int
                assert got[key][g][1] == size, g
        elif key == "pr_curve":
            assert got[key] == value  # rounded to 5 decimals
        else:
            assert got[key] == pytest.approx(value, abs=1e-12), key


@pytest.fixture(scope="module")
def hand():
    return make_standards(TIERS), _hand_vectors()


def test_every_score_of_a_hand_computed_tier(hand):
    st, vectors = hand
    scores = evaluate_embedding(PROTEINS, vectors, st)  # the PR curve is part of the default record
    assert list(scores) == st.default_tiers
    expected = {**COMPLEX, "map_ci": _bootstrap_reference(QUERY_AP)}
    # a resample's mean is 1 - j/36 for j draws of a 5/6: P(j >= 5) = 1.8% < 2.5% < P(j >= 4), P(j = 0) = 8.8%
    assert expected["map_ci"] == pytest.approx([8 / 9, 1.0])
    _assert_scores(scores["complex"], expected)
    _assert_scores(scores["kegg"], KEGG)


def test_scores_without_the_curve_proteins_outside_the_tiers_and_row_order(hand):
    st, vectors = hand
    seen = []
    reordered = [7, 3, 0, 6, 1, 5, 2, 4]
    extra = np.random.default_rng(1).standard_normal((2, vectors.shape[1]))  # two proteins no tier knows
    scores = evaluate_embedding(
        [PROTEINS[i] for i in reordered] + ["Q1", "Q2"],
        np.vstack([vectors[reordered], extra]),
        st,
        tiers=["complex"],
        progress=seen.append,
        with_curve=False,
    )
    assert list(scores) == ["complex"] and seen == ["complex"]
    expected = {k: v for k, v in COMPLEX.items() if k != "pr_curve"}
    _assert_scores(scores["complex"], {**expected, "map_ci": _bootstrap_reference(QUERY_AP)})


def test_score_tier_on_its_own_includes_the_curve(hand):
    st, vectors = hand
    _assert_scores(score_tier(st.tiers["kegg"], PROTEINS, DotProducts(unit_vectors_fixed(vectors))), KEGG)


def test_an_ami_draw_without_two_members_of_one_group_is_nan(hand):
    """compare's AMI resamples draw proteins: a draw can leave no group with two members (NaN, left out)."""
    st, vectors = hand
    rows = [PROTEINS.index(p) for p in ("A", "D", "E", "F")]  # G1, G2, G3, G5: one member each
    dots = DotProducts(unit_vectors_fixed(vectors[rows]))
    values = _ami_draws(st.tiers["complex"], dots, {"A": 0, "D": 1, "E": 2, "F": 3}, seeds=range(3))
    assert len(values) == 3 and all(type(v) is float and np.isnan(v) for v in values)
    full = {p: i for i, p in enumerate(PROTEINS[:7])}
    dots = DotProducts(unit_vectors_fixed(vectors[:7]))
    assert _ami_draws(st.tiers["complex"], dots, full, seeds=[4, 0]) == [1.0, 1.0]


def test_progress_is_called_after_each_tier_with_its_name(hand):
    st, vectors = hand
    seen = []
    evaluate_embedding(PROTEINS, vectors, st, tiers=["kegg", "complex"], progress=seen.append)
    assert seen == ["kegg", "complex"]


SKIPPED = {
    "prevalence": None,
    "ap": None,
    "f05": None,
    "map": None,
    "map_ci": None,
    "map_queries": 0,
    "ami": None,
    "ami_sd": None,
    "fraction_retrieved": None,
    "group_map": {},
}


@pytest.mark.parametrize(
    "proteins, counts, reason",
    [
        (["A"], (1, 0, 0, 0), "fewer than 2 submitted proteins are in this tier"),
        (["X", "Q"], (0, 0, 0, 0), "fewer than 2 submitted proteins are in this tier"),
        (["A", "D", "E", "X"], (3, 3, 3, 0), "no pair of submitted proteins shares a group"),  # G1, G2, G3
    ],
)
def test_skipped_tier_is_the_exact_record(hand, proteins, counts, reason):
    st, vectors = hand
    rows = [PROTEINS.index(p) if p in PROTEINS else 0 for p in proteins]
    got = evaluate_embedding(proteins, vectors[rows], st, tiers=["complex"])
    expected = dict(zip(("proteins", "groups", "pairs", "positive_pairs"), counts))
    assert json.dumps(got["complex"]) == json.dumps({**expected, **SKIPPED, "skipped": reason})  # types too


def test_unknown_tiers_are_named_with_the_known_ones(hand):
    st, _ = hand
    with pytest.raises(UsageError) as err:
        check_tiers(["nope", "kegg", "zap"], st)
    assert (err.value.code, err.value.exit_code) == ("unknown-tier", 2)
    assert err.value.message == "unknown tier(s) nope, zap; known: complex, kegg"
    assert check_tiers(["kegg", "complex"], st) == ["kegg", "complex"]  # the order asked for
    assert check_tiers(None, st) == check_tiers([], st) == st.default_tiers == ["kegg", "complex"]


def test_coverage_is_the_share_of_the_reference_proteome_submitted():
    st = make_standards(TIERS, reference=["A", "B", "C", "D", "E"])
    assert coverage(["A", "C", "X", "Q"], st) == 2 / 5
    assert coverage(iter(["E", "D", "C", "B", "A"]), st) == 1.0
    assert coverage([], st) == 0.0


def test_the_record_of_a_table(hand, monkeypatch):
    st, vectors = hand
    st = make_standards(TIERS, reference=PROTEINS + ["R1", "R2"])
    monkeypatch.setattr(results, "now", lambda: "2026-01-02T03:04:05+00:00")
    monkeypatch.setattr(results, "environment", lambda: {"numpy": "9.9"})
    unknown = [f"U{i}" for i in range(60)]
    ambiguous = [f"M{i}" for i in range(55)]
    table = ProteinTable(
        path=Path("some/table.tsv"),
        sha256="ab" * 32,
        rows=123,
        proteins=PROTEINS,
        vectors=vectors,
        metadata={"dataset": "Real", "model": "hand"},
        unknown=unknown,
        ambiguous=ambiguous,
    )
    seen = []
    record = evaluate_table(table, st, tiers=["kegg"], progress=seen.append)
    assert seen == ["kegg"]
    tiers = record.pop("tiers")
    assert list(tiers) == ["kegg"]
    _assert_scores(tiers["kegg"], KEGG)
    expected = {
        "schema": "repbench.result/1",
        "created": "2026-01-02T03:04:05+00:00",
        "evaluator": {"version": EVALUATOR_VERSION},
        "standards": {"version": "test", "manifest_sha256": "0" * 64, "official": False},
        "unofficial": True,
        "input": {
            "path": str(Path("some/table.tsv")),
            "sha256": "ab" * 32,
            "rows": 123,
            "proteins": 8,
            "dimension": 16,
            "unknown_ids": unknown[:50],  # a preview of ID_PREVIEW ids; the counts are complete
            "ambiguous_ids": ambiguous[:50],
            "n_unknown": 60,
            "n_ambiguous": 55,
            "metadata": {"dataset": "Real", "model": "hand"},
        },
        "dataset": "real",
        "coverage": 8 / 10,
        "reference_proteome": 10,
        "environment": {"numpy": "9.9"},
    }
    assert record == expected
    official = evaluate_table(table, replace(st, official=True), tiers=["kegg"])
    assert official["unofficial"] is False and official["standards"]["official"] is True


def _integer_products(fixed: np.ndarray) -> np.ndarray:
    f = fixed.astype(np.int64)
    return f @ f.T  # numpy's integer loop: exact, no BLAS


@pytest.mark.parametrize("full_matrix_bytes", [evaluator.FULL_MATRIX_BYTES, 0])
def test_dot_products_of_views_are_the_integer_products(rng, full_matrix_bytes):
    fixed = unit_vectors_fixed(rng.standard_normal((9, 5)))
    exact = _integer_products(fixed)
    dots = DotProducts(fixed, full_matrix_bytes=full_matrix_bytes)
    assert (dots.full is None) == (full_matrix_bytes == 0)
    first = np.array([8, 1, 3, 4, 6, 0])
    second = np.array([5, 0, 2, 3])  # rows 0, 8, 3, 4 of the table
    for view, rows in (
        (dots, np.arange(9)),
        (dots.restrict(first), first),
        (dots.restrict(first).restrict(second), first[second]),
    ):
        n = rows.size
        for start, stop in ((0, n), (1, 3), (n - 1, n)):
            got = view.rows(start, stop)
            assert got.dtype == np.int64 and np.array_equal(got, exact[np.ix_(rows[start:stop], rows)])
        pick = np.array([n - 1, 0, 1])
        got = view.among(pick)
        assert got.dtype == np.int64 and np.array_equal(got, exact[np.ix_(rows[pick], rows[pick])])


def test_full_matrix_kept_exactly_while_it_fits_and_filled_in_blocks(rng, monkeypatch):
    fixed = unit_vectors_fixed(rng.standard_normal((10, 4)))
    exact = _integer_products(fixed)
    with monkeypatch.context() as patch:
        patch.setattr(evaluator, "FILL_BLOCK_ROWS", 3)  # 4 blocks: 3 + 3 + 3 + 1 rows
        dots = DotProducts(fixed)  # first: np.empty must not reuse a freed matrix that already holds the products
    assert dots.full.dtype == np.int64 and np.array_equal(dots.full, exact)
    assert np.array_equal(dots.rows(0, 10), exact)
    assert DotProducts(fixed, full_matrix_bytes=10 * 10 * 8).full is not None  # 8 bytes per product
    assert DotProducts(fixed, full_matrix_bytes=10 * 10 * 8 - 1).full is None


def test_near_duplicate_rows_tie_at_distance_zero_as_the_reference_says():
    """Rows that are (nearly) the same can have fixed-point products above 2**52 (a correlation above 1 by rounding):
    step 7's distance max(0, 1 - S) makes them all 0, a tie that decides the tree; the AMI is the reference's."""
    rng = np.random.default_rng(7)
    vectors = np.repeat(rng.standard_normal((3, 5)), [3, 2, 1], axis=0) + 1e-9 * rng.standard_normal((6, 5))
    fixed = unit_vectors_fixed(vectors).astype(np.int64)
    assert np.count_nonzero((fixed @ fixed.T)[np.triu_indices(6, 1)] > 2**52) == 4  # four pairs round above 1
    names = ["A", "B", "C", "D", "E", "F"]  # A, B, C alike; D, E alike; F apart
    st = make_standards({"complex": {"G1": ["A", "B"], "G2": ["C", "D"], "G3": ["E", "F"]}})
    fast = evaluate_embedding(names, vectors, st)["complex"]
    slow = reference_evaluate(names, vectors, st)["complex"]
    assert fast["ami"] == pytest.approx(slow["ami"], abs=1e-12) and fast["ami"] < 0.1
    assert fast["ami_sd"] == pytest.approx(slow["ami_sd"], abs=1e-12)
