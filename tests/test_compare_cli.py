"""`repbench compare` and repbench.verdicts.compare_tables on a real-ish table (the shipped Huh 2003 flags).

A table vs random vectors on the same proteins: A better on every tier. A table vs itself: difference 0, p = 1.
A table vs a copy with 1e-6 relative noise: nothing significant.
"""

from __future__ import annotations

import csv
import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from repbench import standards as standards_mod
from repbench.cli.main import app
from repbench.evaluator import evaluate_embedding
from repbench.table import read_table, write_table
from repbench.verdicts import compare_tables, f05 as f05_boot, resample_weights, write_terms

runner = CliRunner()


def huh_table(every: int = 5, start: int = 0):
    """(ORFs, 0/1 localization flags + a little noise) for every `every`-th flagged protein of Huh 2003."""
    path = resources.files("repbench") / "resources" / "localization" / "huh2003_yeastgfp.csv"
    frame = pd.read_csv(str(path), dtype=str, keep_default_na=False)
    flags = (frame.iloc[:, 6:] == "T").to_numpy(np.float64)
    keep = np.flatnonzero(flags.any(axis=1))[start::every]
    rng = np.random.default_rng(1)
    return frame["yORF"].to_numpy()[keep].tolist(), flags[keep] + rng.normal(0, 0.05, (keep.size, flags.shape[1]))


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    orfs, real = huh_table()
    rng = np.random.default_rng(2)
    paths = {
        "real": write_table(folder / "real.parquet", orfs, real),
        "random": write_table(folder / "random.parquet", orfs, rng.standard_normal(real.shape)),
        "noisy": write_table(folder / "noisy.parquet", orfs, real * (1 + 1e-6 * rng.standard_normal(real.shape))),
        "other": write_table(folder / "other.parquet", *huh_table(start=1)),  # none of real's proteins
    }
    st = standards_mod.load()
    return st, paths, {k: read_table(p, st) for k, p in paths.items() if k != "other"}


@pytest.fixture(scope="module")
def real_vs_random(tables):
    st, _, t = tables
    return compare_tables(t["real"], t["random"], st, ami_resamples=20)


def test_real_table_beats_random_vectors_on_every_tier(real_vs_random):
    result = real_vs_random
    assert result["tests"] == 12 and result["proteins"] > 600
    for tier, scores in result["tiers"].items():
        for metric in ("map", "ami", "f05"):
            m = scores[metric]
            assert m["verdict"] == "A better", (tier, metric, m)
            assert m["difference"] == m["a"] - m["b"] > 0 and m["ci"][0] > 0
            assert m["p"] < 0.01 and m["p_adjusted"] >= m["p"]
        assert scores["map"]["p_adjusted"] < 0.01 and scores["ami"]["p_adjusted"] < 0.01
        assert scores["groups"] and scores["groups_tested"] >= len(scores["groups"])
    q = [g["q"] for g in result["tiers"]["go_cc"]["groups"]]
    assert q == sorted(q) and q[0] < 0.05  # some GO CC term is recovered better by the real table


def test_a_table_against_itself_is_difference_zero_p_one(tables):
    st, _, t = tables
    result = compare_tables(t["real"], t["real"], st, tiers=["go_cc", "complex"], resamples=300, ami_resamples=5)
    for scores in result["tiers"].values():
        for metric in ("map", "ami", "f05"):
            m = scores[metric]
            assert (m["difference"], m["p"], m["p_adjusted"], m["verdict"]) == (0.0, 1.0, 1.0, "no evidence")
        assert all(g["difference"] == 0 and g["p"] == 1 for g in result["terms"])


def test_a_copy_with_tiny_noise_is_never_significant(tables):
    st, _, t = tables
    result = compare_tables(t["real"], t["noisy"], st, resamples=500, ami_resamples=5)
    for scores in result["tiers"].values():
        for metric in ("map", "ami", "f05"):
            assert scores[metric]["verdict"] == "no evidence"
            assert abs(scores[metric]["difference"]) < 1e-4
    assert min(g["q"] for g in result["terms"]) >= 0.05


def test_point_values_are_the_evaluators_on_the_common_proteins(tables, real_vs_random):
    st, _, t = tables
    scores = evaluate_embedding(t["real"].proteins, t["real"].vectors, st, tiers=["kegg", "complex"], with_curve=False)
    for tier, s in scores.items():
        got = real_vs_random["tiers"][tier]
        assert got["proteins"] == s["proteins"]
        assert (got["f05"]["a"], got["ami"]["a"], got["map"]["a"]) == (s["f05"], s["ami"], s["map"])  # same bits


def test_linearised_f05_counts_equal_first_order_pair_weights():
    """TP*(t) = sum over pairs of (w_i + w_j - 1) [s_ij >= t][positive]: the module against plain loops."""
    rng = np.random.default_rng(3)
    n = 30
    membership = (rng.random((n, 4)) < 0.3).astype(np.float32)
    scores = rng.integers(-50, 50, size=(n, n))
    scores = np.triu(scores, 1) + np.triu(scores, 1).T
    shared = (membership @ membership.T) > 0
    thresholds = np.array([40, 10, 0, -20])
    pos, cnt, total = f05_boot.threshold_counts(
        lambda a, b: scores[a:b], lambda a, b: shared[a:b].copy(), n, thresholds
    )
    w = resample_weights(n, 3, seed=9)
    for r in range(3):
        for k, t in enumerate(thresholds):
            tp = sum(
                (w[r, i] + w[r, j] - 1) for i in range(n) for j in range(i + 1, n) if scores[i, j] >= t and shared[i, j]
            )
            assert w[r] @ pos[:, k] - pos[:, k].sum() / 2 == tp
            ranked = sum((w[r, i] + w[r, j] - 1) for i in range(n) for j in range(i + 1, n) if scores[i, j] >= t)
            assert w[r] @ cnt[:, k] - cnt[:, k].sum() / 2 == ranked
    assert total.sum() == 2 * sum(shared[i, j] for i in range(n) for j in range(i + 1, n))


def test_compare_is_deterministic(tables):
    st, _, t = tables
    first = compare_tables(t["real"], t["random"], st, tiers=["kegg"], resamples=200, ami_resamples=4)
    again = compare_tables(t["real"], t["random"], st, tiers=["kegg"], resamples=200, ami_resamples=4)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


# ---------------------------------------------------------------- the command


def test_cli_json_has_the_documented_structure(tables, tmp_path):
    _, paths, _ = tables
    terms = tmp_path / "terms.csv"
    result = runner.invoke(
        app,
        [
            "compare",
            str(paths["real"]),
            str(paths["random"]),
            "--json",
            "--tier",
            "complex",
            "--ami-resamples",
            "4",
            "--terms",
            str(terms),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["tiers"]) == {"complex"} and data["proteins"] > 100
    for metric in ("map", "ami", "f05"):
        m = data["tiers"]["complex"][metric]
        assert {"a", "b", "difference", "ci", "p", "p_adjusted", "verdict"} <= set(m) and len(m["ci"]) == 2
    rows = list(csv.DictReader(terms.open()))
    assert rows and set(rows[0]) == {"tier", "group", "name", "size", "map_a", "map_b", "difference", "p", "q"}
    assert len(rows) == data["tiers"]["complex"]["groups_tested"]


def test_cli_human_form_says_who_is_better(tables):
    _, paths, _ = tables
    result = runner.invoke(
        app, ["compare", str(paths["real"]), str(paths["random"]), "-t", "go_cc", "--ami-resamples", "4", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("A better") == 3 and "Groups where A and B differ most" in result.stdout
    same = runner.invoke(
        app,
        [
            "compare",
            str(paths["real"]),
            str(paths["real"]),
            "-t",
            "complex",
            "--ami-resamples",
            "2",
            "--resamples",
            "50",
            "-q",
        ],
    )
    assert same.exit_code == 0 and same.stdout.count("no evidence") == 3


def test_cli_refuses_tables_without_common_proteins(tables):
    _, paths, _ = tables
    result = runner.invoke(app, ["compare", str(paths["real"]), str(paths["other"])])
    assert result.exit_code == 1
    assert "[no-overlap]" in result.stderr and "Traceback" not in result.output and result.stdout == ""


def test_terms_csv_guards_formula_cells_and_is_atomic(tmp_path):
    row = {
        "tier": "go_cc",
        "group": '=HYPERLINK("x")',
        "name": "@cmd",
        "size": 3,
        "map_a": 0.5,
        "map_b": 0.25,
        "difference": -0.25,
        "p": 0.5,
        "q": 0.5,
    }
    path = tmp_path / "terms.csv"
    write_terms(path, {"terms": [row]})
    got = list(csv.DictReader(path.open()))[0]
    assert got["group"].startswith("'=") and got["name"] == "'@cmd" and got["difference"] == "-0.25"
    assert [p.name for p in tmp_path.iterdir()] == ["terms.csv"]  # no temp file left


def test_tables_covering_different_proteins_are_compared_on_the_shared_ones(tables, tmp_path):
    st, _, t = tables
    half = t["real"].proteins[::2]
    rng = np.random.default_rng(5)
    other = read_table(write_table(tmp_path / "half.parquet", half, rng.standard_normal((len(half), 8))), st)
    result = compare_tables(t["real"], other, st, tiers=["complex"], resamples=300, ami_resamples=3)
    in_tier = [p for p in half if p in st.tiers["complex"].members]
    assert result["b"]["proteins"] == len(half) and result["tiers"]["complex"]["proteins"] == len(in_tier)
    assert result["tiers"]["complex"]["map"]["difference"] > 0
