"""human-v1: the shipped standard set, its id map, choosing a set per table, the wrong-set error, the reference rows,
and the shared product matrix that makes 20,000 proteins affordable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from repbench import evaluator as evaluate_mod, standards as standards_mod
from repbench.cli.main import app
from repbench.errors import RepbenchError
from repbench.evaluator import DotProducts, check_tiers, evaluate_embedding
from repbench.ids import IdMap
from repbench.metrics.correlation import unit_vectors_fixed
from repbench.results import validate_record
from repbench.table import read_table, standards_for, write_table

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "leaderboard" / "submissions"
runner = CliRunner()
TP53 = "7157"  # NCBI Gene id of TP53: ENSG00000141510, P04637


@pytest.fixture(scope="module")
def human():
    return standards_mod.load("human-v1")


def test_human_v1_is_shipped_verified_and_its_tiers_come_from_the_manifest(human):
    assert standards_mod.shipped_versions() == ["human-v1", "yeast-v1"]
    assert human.official and human.version == "human-v1"
    assert human.tier_order == ["go_cc", "go_bp", "reactome", "complex", "corum"]
    assert human.default_tiers == ["go_cc", "go_bp", "reactome", "complex"]  # corum: extra, non-commercial
    assert human.manifest["tiers"]["corum"]["commercial_use"] is False
    assert len(human.reference_proteome) == 20598  # NCBI protein-coding genes
    assert set(human.reference_proteome) >= human.tiers["go_bp"].members
    rules = {"go_cc": (5, 200), "go_bp": (50, 200), "reactome": (5, 200), "complex": (2, 200), "corum": (2, 200)}
    for name, (lo, hi) in rules.items():
        groups = human.tiers[name].groups
        assert groups and all(lo <= len(m) <= hi for m in groups.values()), name
        assert len({frozenset(m) for m in groups.values()}) == len(groups), name  # one group per gene set
    assert {"GO:0022625", "GO:0016592"} <= set(human.tiers["go_cc"].groups)  # large ribosomal subunit, mediator
    assert human.title("corum").endswith("non-commercial)")


def test_manifest_lists_every_file_and_the_notice_names_every_source(human):
    files = {p.relative_to(human.root).as_posix() for p in human.root.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(human.manifest["files"]) == files
    for source in (
        "org.Hs.eg.db",
        "GO.db",
        "Reactome",
        "Complex Portal",
        "CORUM",
        "NON-COMMERCIAL",
        "2022-07-11",
        "CC0",
        "CC BY 4.0",
    ):
        assert source in human.notice, source


def test_yeast_v1_keeps_its_tiers_and_order():
    yeast = standards_mod.load()
    assert yeast.tier_order == yeast.default_tiers == ["go_cc", "go_bp", "kegg", "complex"]
    assert [len(yeast.tiers[t].groups) for t in yeast.tier_order] == [378, 105, 105, 571]
    assert yeast.idmap.resolve(["CIS1", "YLR346C", "TP53"]).orfs == ["YLR346C", "YLR346C", None]


def test_every_id_kind_maps_to_the_ncbi_gene_id(human):
    names = ["ENSG00000141510", "P04637", "TP53", TP53, "tp53", "ensg00000141510", "ENSG00000141510.17", "P04637-2"]
    assert human.idmap.resolve(names).orfs == [TP53] * len(names)
    # an Ensembl id that NCBI maps to two protein-coding genes is ambiguous: dropped, reported
    resolution = human.idmap.resolve(["ENSG00000145736", "NOT-A-GENE", "TP53-2", "ENSG00000141510.X"])
    assert resolution.orfs == [None] * 4  # the fallbacks rewrite only versioned Ensembl ids and UniProt isoforms
    assert resolution.ambiguous == ["ENSG00000145736"]
    assert resolution.unknown == ["NOT-A-GENE", "TP53-2", "ENSG00000141510.X"]


def test_precedence_follows_the_order_the_standard_set_gives():
    table = pd.DataFrame(
        {
            "name": ["X", "X", "Y", "Y"],
            "protein": ["1", "2", "3", "4"],
            "kind": ["symbol", "uniprot", "uniprot", "uniprot"],
        }
    )
    idmap = IdMap(table, precedence=("entrez", "ensembl", "uniprot", "symbol"), column="protein")
    assert idmap.resolve(["X", "Y"]).orfs == ["2", None]  # uniprot outranks symbol; Y: two genes at its level
    flipped = IdMap(table, precedence=("symbol", "uniprot"), column="protein")
    assert flipped.resolve_one("X") == "1"


def _human_table(path: Path, human, n: int = 300, key: str = "ensembl", metadata: dict | None = None) -> Path:
    frame = pd.read_csv(human.root / "idmap.tsv", sep="\t", dtype=str, keep_default_na=False)
    genes = sorted(human.tiers["complex"].members)[:n]
    names = frame[frame["kind"] == key].drop_duplicates("protein").set_index("protein")["name"]
    ids = [names.get(g, g) for g in genes]
    vectors = np.random.default_rng(0).standard_normal((len(ids), 16))
    return write_table(path, ids, vectors, metadata)


def test_metadata_names_the_set_and_ensembl_ids_are_read_as_genes(tmp_path, human):
    path = _human_table(tmp_path / "h.parquet", human, metadata={"standards": "human-v1"})
    st = standards_for(path)
    assert st.version == "human-v1"
    table = read_table(path, st)
    assert len(table.proteins) == 300 and set(table.proteins) <= human.tiers["complex"].members
    assert standards_for(path, "yeast-v1").version == "yeast-v1"  # asked for explicitly: that one
    with pytest.raises(RepbenchError) as err:
        standards_for(write_table(tmp_path / "bad.parquet", ["A"], np.ones((1, 2)), {"standards": 3}))
    assert err.value.code == "bad-metadata"


@pytest.mark.parametrize("key", ["ensembl", "symbol", "uniprot"])
def test_human_ids_against_yeast_v1_name_the_right_set(tmp_path, human, key):
    path = _human_table(tmp_path / "h.parquet", human, key=key)  # no metadata: yeast-v1 by default
    with pytest.raises(RepbenchError) as err:
        read_table(path, standards_for(path))
    assert err.value.code == "wrong-standards" and "--standards human-v1" in str(err.value)


def test_yeast_orfs_against_human_v1_name_yeast_v1(tmp_path, standards, human):
    path = write_table(
        tmp_path / "y.parquet",
        list(standards.reference_proteome[:200]),
        np.random.default_rng(1).standard_normal((200, 8)),
    )
    with pytest.raises(RepbenchError) as err:
        read_table(path, human)
    assert err.value.code == "wrong-standards" and "--standards yeast-v1" in str(err.value)


def test_cli_evaluate_and_validate_with_standards(tmp_path, human):
    path = _human_table(tmp_path / "h.parquet", human, key="symbol")
    result = runner.invoke(app, ["evaluate", str(path), "--standards", "human-v1", "--tier", "complex", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["standards"]["version"] == "human-v1" and list(record["tiers"]) == ["complex"]
    assert record["tiers"]["complex"]["proteins"] == 300
    result = runner.invoke(app, ["validate", str(path), "-s", "human-v1", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["standards"] == "human-v1"
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and "wrong-standards" in result.output
    result = runner.invoke(app, ["evaluate", str(path), "--standards", "mouse-v1"])
    assert result.exit_code == 2 and "unknown-standards" in result.output and "human-v1" in result.output


def test_cli_standards_lists_both_sets():
    result = runner.invoke(app, ["standards", "--json"])
    assert result.exit_code == 0, result.output
    sets = {s["version"]: s for s in json.loads(result.stdout)["sets"]}
    assert set(sets) == {"human-v1", "yeast-v1"}
    assert sets["human-v1"]["tiers"]["corum"]["default"] is False
    assert list(sets["yeast-v1"]["tiers"]) == ["go_cc", "go_bp", "kegg", "complex"]


def test_corum_is_scored_only_when_asked_for(human):
    assert "corum" not in check_tiers(None, human)
    genes = sorted(human.tiers["corum"].members)[:120]
    scores = evaluate_embedding(genes, np.random.default_rng(2).standard_normal((120, 8)), human, tiers=["corum"])
    assert list(scores) == ["corum"] and scores["corum"]["proteins"] == 120


def test_shared_product_views_match_recomputed_blocks_bit_for_bit(monkeypatch):
    monkeypatch.setattr(evaluate_mod, "FILL_BLOCK_ROWS", 128)  # the full matrix filled in several row blocks
    vectors = unit_vectors_fixed(np.random.default_rng(3).standard_normal((700, 24)))
    full, blocks = DotProducts(vectors), DotProducts(vectors, full_matrix_bytes=0)
    assert full.full is not None and full.full.dtype == np.int64 and blocks.full is None
    outer = np.random.default_rng(4).permutation(700)[:500]
    inner = np.random.default_rng(5).permutation(500)[:300]
    a, b = full.restrict(outer).restrict(inner), blocks.restrict(outer).restrict(inner)
    assert a.full is full.full  # a view, not a copy
    exact = (vectors[outer][inner] @ vectors[outer][inner].T).astype(np.int64)
    for start, stop in ((0, 255), (255, 300)):
        assert a.rows(start, stop).dtype == np.int64
        assert np.array_equal(a.rows(start, stop), exact[start:stop])
        assert np.array_equal(b.rows(start, stop), exact[start:stop])
    pick = np.array([5, 0, 299, 17])
    assert np.array_equal(a.among(pick), exact[np.ix_(pick, pick)])
    assert np.array_equal(b.among(pick), exact[np.ix_(pick, pick)])


def _record(slug: str) -> dict:
    return json.loads((SUBMISSIONS / f"{slug}.json").read_text())


def test_human_reference_rows_are_valid_and_hpa_beats_random_on_go_cc():
    hpa, cell, rand = (
        _record(s) for s in ("hpa-localization-enhanced-supported", "opencell-cytoself-leiden-clusters", "random-human")
    )
    # random on the real rows' genes is tagged real, so it sits in their section (as on yeast)
    for record, dataset in ((hpa, "real"), (cell, "real"), (rand, "real")):
        assert validate_record(record) == []
        assert record["standards"]["version"] == "human-v1" and record["submission"]["reference"] is True
        assert record["dataset"] == dataset and list(record["tiers"]) == ["go_cc", "go_bp", "reactome", "complex"]
        assert (SUBMISSIONS / record["submission"]["embedding_file"]).is_file()
    assert hpa["input"]["proteins"] == rand["input"]["proteins"] > 5000  # the same genes
    h, r = hpa["tiers"]["go_cc"], rand["tiers"]["go_cc"]
    assert h["ami"] > r["ami"] + 0.1 and h["map"] > 2 * r["map"] and h["f05"] > 2 * r["f05"]
