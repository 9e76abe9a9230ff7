"""The reference baselines (plugins/baselines): localization flags, random vectors, shuffled ids."""

from __future__ import annotations

import numpy as np
import pytest
from repbench_baselines import LocalizationEmbedder, RandomEmbedder, ShuffledEmbedder

from repbench import table
from repbench.embedders import EmbedRequest
from repbench.errors import RepbenchError
from repbench.evaluator import evaluate_embedding


def embed(embedder, tmp_path, seed=0, **options):
    return embedder.embed(EmbedRequest(cells=None, out_dir=tmp_path, seed=seed, options=options))


@pytest.fixture(scope="module")
def localization(tmp_path_factory):
    return embed(LocalizationEmbedder(), tmp_path_factory.mktemp("loc"))


@pytest.fixture(scope="module")
def localization_table(localization, tmp_path_factory):
    path = tmp_path_factory.mktemp("tables") / "localization.parquet"
    return table.write_table(path, localization.proteins, localization.vectors)


def test_localization_vectors_are_the_huh_flags(localization):
    flags = localization.params["flags"]
    assert len(flags) == 23 and localization.vectors.shape == (len(localization.proteins), 23)
    vector = dict(zip(localization.proteins, localization.vectors))

    def on(orf):
        return {flag for flag, value in zip(flags, vector[orf]) if value == 1}

    assert on("YAL001C") == {"cytoplasm", "nucleus"}  # TFC3
    assert on("YAL002W") == {"endosome"}  # VPS8
    assert set(np.unique(localization.vectors)) == {0.0, 1.0}


def test_proteins_without_any_flag_are_left_out_and_counted(localization):
    params = localization.params
    assert params["proteins_in_table"] == 4155
    assert len(localization.proteins) + params["dropped_without_flags"] == 4155
    assert params["dropped_without_flags"] == len(params["dropped_proteins"]) > 0
    assert not set(params["dropped_proteins"]) & set(localization.proteins)
    assert (localization.vectors.max(axis=1) > localization.vectors.min(axis=1)).all()  # no constant vector


def test_random_is_seeded(tmp_path, standards):
    first, again, other = (embed(RandomEmbedder(), tmp_path, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert not np.allclose(first.vectors, other.vectors)
    assert first.proteins == list(standards.reference_proteome) and first.vectors.shape == (4155, 64)


def test_random_like_a_table_takes_its_proteins_and_dimension(tmp_path, localization_table, localization):
    like = embed(RandomEmbedder(), tmp_path, like=str(localization_table))
    assert like.proteins == localization.proteins and like.vectors.shape == localization.vectors.shape


def test_shuffled_permutes_the_ids_of_the_source_vectors(tmp_path, localization_table, localization):
    shuffled = embed(ShuffledEmbedder(), tmp_path, seed=1, table=str(localization_table))
    again = embed(ShuffledEmbedder(), tmp_path, seed=1, table=str(localization_table))
    assert shuffled.proteins == again.proteins
    assert sorted(shuffled.proteins) == sorted(localization.proteins)
    source = dict(zip(localization.proteins, localization.vectors))
    # the same rows of vectors, in the same order; ids moved
    np.testing.assert_array_equal(shuffled.vectors, localization.vectors)
    moved = sum(p != q for p, q in zip(shuffled.proteins, localization.proteins))
    assert moved > 0.99 * len(localization.proteins)
    differs = sum(not np.array_equal(v, source[p]) for p, v in zip(shuffled.proteins, shuffled.vectors))
    assert differs > 0.5 * len(localization.proteins)  # many proteins share a flag pattern; most still differ


def test_shuffled_without_a_table_is_a_clear_error(tmp_path):
    with pytest.raises(RepbenchError) as raised:
        embed(ShuffledEmbedder(), tmp_path)
    assert raised.value.code == "missing-option" and "table=PATH" in raised.value.message


def test_unknown_options_and_missing_tables_are_errors(tmp_path):
    with pytest.raises(RepbenchError) as raised:
        embed(RandomEmbedder(), tmp_path, lik="x")
    assert raised.value.code == "unknown-option"
    with pytest.raises(RepbenchError):
        embed(ShuffledEmbedder(), tmp_path, table=str(tmp_path / "missing.parquet"))


def test_shuffled_scores_at_chance_while_its_source_does_not(tmp_path, localization_table, localization, standards):
    shuffled = embed(ShuffledEmbedder(), tmp_path, table=str(localization_table))
    source = evaluate_embedding(
        localization.proteins, localization.vectors, standards, tiers=["go_cc"], with_curve=False
    )["go_cc"]
    control = evaluate_embedding(shuffled.proteins, shuffled.vectors, standards, tiers=["go_cc"], with_curve=False)[
        "go_cc"
    ]
    chance = control["prevalence"]
    assert source["prevalence"] == pytest.approx(chance)  # same proteins, same pairs
    assert source["ap"] > 1.5 * chance and source["ami"] > 0.2
    assert control["ap"] == pytest.approx(chance, rel=0.15) and control["ami"] < 0.05


def test_the_embedders_are_found_through_the_entry_point_like_any_third_party_plugin(monkeypatch):
    from repbench import plugins

    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "baselines")
    plugins.reset()
    try:
        found = plugins.embedders()
        assert set(found) == {"localization", "random", "shuffled"}
        assert {info.package for info in found.values()} == {"repbench-baselines"}
    finally:
        plugins.reset()


def test_a_baseline_takes_the_data_set_of_the_table_it_is_drawn_for(tmp_path, localization):
    """random like=T and shuffled table=T describe T's proteins: they carry T's data set into the run's table
    (not 'none'), so the site puts them in T's section; the Huh flags are a real annotation."""
    tagged = table.write_table(
        tmp_path / "real.parquet", localization.proteins, localization.vectors, {"dataset": "synthetic"}
    )
    assert localization.dataset == "real"
    assert embed(RandomEmbedder(), tmp_path, like=str(tagged)).dataset == "synthetic"
    assert embed(ShuffledEmbedder(), tmp_path, table=str(tagged)).dataset == "synthetic"
    assert embed(RandomEmbedder(), tmp_path).dataset is None  # the reference proteome: no data set
    untagged = table.write_table(tmp_path / "plain.parquet", localization.proteins, localization.vectors)
    assert embed(ShuffledEmbedder(), tmp_path, table=str(untagged)).dataset == "unknown"
