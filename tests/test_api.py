"""The Python API (repbench.evaluate & co.): the CLI's numbers, checks and error codes from a notebook."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import repbench
from repbench.api import FRAME_COLUMNS, RepbenchWarning
from repbench.cli.main import app
from repbench.errors import RepbenchError, UsageError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def orfs_and_genes():
    """300 go_cc ORFs with their standard gene names (the ORF itself where it has none)."""
    st = repbench.standards()
    table = pd.read_csv(st.root / "idmap.tsv", sep="\t", dtype=str, keep_default_na=False)
    standard = table[table["kind"] == "standard"].drop_duplicates("orf").set_index("orf")["name"]
    orfs = sorted(st.tiers["go_cc"].members)[:300]
    return orfs, [standard.get(o, o) for o in orfs]


@pytest.fixture(scope="module")
def vectors():
    return np.random.default_rng(7).standard_normal((300, 12))


def cli_record(path: Path) -> dict:
    result = CliRunner().invoke(app, ["evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_same_numbers(frame: pd.DataFrame, record: dict) -> None:
    """Every number of the frame equals the record's (bit for bit), tier by tier."""
    assert list(frame.index) == list(record["tiers"])
    for tier, scores in record["tiers"].items():
        for column in ("ami", "ami_sd", "map", "f05", "ap", "prevalence", "proteins", "groups", "pairs"):
            assert frame.loc[tier, column] == scores[column], (tier, column)
        assert [frame.loc[tier, "map_ci_low"], frame.loc[tier, "map_ci_high"]] == scores["map_ci"]


@pytest.mark.parametrize("names", ["orfs", "genes"])
def test_a_dataframe_gives_the_numbers_of_the_cli(tmp_path, orfs_and_genes, vectors, names):
    ids = orfs_and_genes[0] if names == "orfs" else orfs_and_genes[1]
    frame = pd.DataFrame(vectors, index=pd.Index(ids, name="protein"), columns=[f"f{i}" for i in range(12)])
    frame.to_parquet(tmp_path / "t.parquet")
    record = cli_record(tmp_path / "t.parquet")

    result = repbench.evaluate(frame)
    table = result.to_frame()
    assert table.index.name == "tier" and list(table.columns[:9]) == list(FRAME_COLUMNS[:9])
    assert_same_numbers(table, record)
    assert result.to_dict()["tiers"].keys() == record["tiers"].keys()
    assert result.to_dict()["input"]["proteins"] == 300 and result.to_dict()["input"]["path"] == "<DataFrame>"


def test_every_layout_gives_the_same_numbers(orfs_and_genes, vectors):
    orfs, genes = orfs_and_genes
    by_index = repbench.evaluate(pd.DataFrame(vectors, index=pd.Index(genes, name="protein"))).to_frame()
    with_column = pd.DataFrame({"protein": orfs, "embedding": list(vectors)})
    as_list_column = repbench.evaluate(with_column).to_frame()
    as_array = repbench.evaluate(vectors, ids=orfs).to_frame()
    pd.testing.assert_frame_equal(by_index, as_list_column)
    pd.testing.assert_frame_equal(by_index, as_array)


def test_bad_input_gets_the_cli_error_codes(orfs_and_genes, vectors):
    orfs, _ = orfs_and_genes
    broken = vectors.copy()
    broken[[3, 17]] = np.nan
    with pytest.raises(ValueError) as caught:  # RepbenchError is a ValueError
        repbench.evaluate(pd.DataFrame(broken, index=pd.Index(orfs, name="protein")))
    error = caught.value
    assert isinstance(error, RepbenchError) and error.code == "nan-or-inf"
    assert error.rows[:1] == [f"3 ({orfs[3]!r})"] and error.path == "<DataFrame>"  # NaN errors list their rows
    for call, code in [
        (lambda: repbench.evaluate(vectors), "bad-input"),  # an array needs ids
        (lambda: repbench.evaluate(vectors, ids=orfs[:10]), "bad-shape"),
        (lambda: repbench.evaluate(pd.DataFrame(vectors)), "missing-protein-column"),
        (lambda: repbench.evaluate({"a": 1}), "bad-input"),
        (lambda: repbench.evaluate(vectors[:5], ids=orfs[:5]), "too-few-proteins"),
    ]:
        with pytest.raises(RepbenchError) as caught:
            call()
        assert caught.value.code == code


def test_an_unknown_tier_is_refused_before_the_table_is_read(tmp_path):
    with pytest.raises(UsageError) as caught:
        repbench.evaluate(tmp_path / "missing.parquet", tiers=["go_cc", "foo"])
    assert caught.value.code == "unknown-tier" and "foo" in str(caught.value)
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "missing.parquet"), "--tier", "foo"])
    assert result.exit_code == 2 and "[unknown-tier]" in result.output


def test_an_old_gene_name_and_its_orf_are_refused_or_merged(orfs_and_genes, vectors):
    """CIS1 is YLR346C's standard name: a table naming both is one protein twice."""
    orfs, _ = orfs_and_genes
    ids = orfs[:50] + ["CIS1", "YLR346C"]
    rows = np.vstack([vectors[:50], vectors[50:52]])
    with pytest.raises(RepbenchError) as caught:
        repbench.evaluate(rows, ids=ids)
    assert caught.value.code == "duplicate-protein" and "CIS1" in str(caught.value)
    for mode, expected in (("first", rows[50]), ("mean", rows[50:52].mean(axis=0))):
        with pytest.warns(RepbenchWarning, match="merged"):
            table = repbench.read(rows, ids=ids, duplicates=mode)
        assert table.proteins.count("YLR346C") == 1
        np.testing.assert_array_equal(table.vectors[table.proteins.index("YLR346C")], expected)
    with pytest.raises(UsageError):
        repbench.read(rows, ids=ids, duplicates="last")


def test_the_cli_merges_duplicates_on_request(tmp_path, orfs_and_genes, vectors):
    orfs, _ = orfs_and_genes
    frame = pd.DataFrame(vectors[:52], index=pd.Index(orfs[:50] + ["CIS1", "YLR346C"], name="protein"))
    frame.columns = [str(c) for c in frame.columns]
    frame.to_parquet(tmp_path / "t.parquet")
    refused = CliRunner().invoke(app, ["validate", str(tmp_path / "t.parquet")])
    assert refused.exit_code == 1 and "[duplicate-protein]" in refused.output
    merged = CliRunner().invoke(app, ["validate", str(tmp_path / "t.parquet"), "--duplicates", "mean", "--json"])
    assert merged.exit_code == 0, merged.output
    report = json.loads(merged.stdout)
    assert report["proteins"] == 51 and report["merged"] == ["'CIS1' + 'YLR346C' -> YLR346C"]
    assert "merged" in merged.stderr


def test_a_collapsed_embedding_gets_a_warning(orfs_and_genes):
    orfs, _ = orfs_and_genes
    base = np.linspace(0, 1, 12)
    collapsed = base + 1e-7 * np.random.default_rng(0).standard_normal((300, 12))
    with pytest.warns(RepbenchWarning, match="nearly"):
        repbench.evaluate(collapsed, ids=orfs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a healthy embedding: no warning at all
        repbench.evaluate(np.random.default_rng(1).standard_normal((300, 12)), ids=orfs)


def test_result_shows_itself_in_a_notebook(orfs_and_genes, vectors):
    orfs, _ = orfs_and_genes
    result = repbench.evaluate(vectors, ids=orfs, tiers=["go_cc", "kegg"])
    assert result.tiers == ["go_cc", "kegg"] and result["go_cc"]["map"] == result.to_frame().loc["go_cc", "map"]
    page = result._repr_html_()
    assert "<table" in page and "go_cc" in page and "kegg" in page and "go_bp" not in page
    assert re.search(r"300 proteins x 12 dims", repr(result))
    copy = result.to_dict()
    copy["tiers"]["go_cc"]["map"] = -1
    assert result["go_cc"]["map"] != -1  # to_dict is a copy


def test_progress_reports_stage_done_total(orfs_and_genes, vectors):
    calls = []
    repbench.evaluate(vectors, ids=orfs_and_genes[0], progress=lambda *call: calls.append(call))
    assert calls[0] == ("evaluating tiers", 0, 4) and calls[-1] == ("evaluating tiers", 4, 4) and len(calls) == 5


def test_compare_is_the_cli_comparison(tmp_path, orfs_and_genes, vectors):
    orfs, _ = orfs_and_genes
    frame = pd.DataFrame(vectors, index=pd.Index(orfs, name="protein"), columns=[f"f{i}" for i in range(12)])
    frame.to_parquet(tmp_path / "a.parquet")
    same = repbench.compare(frame, tmp_path / "a.parquet", tiers=["go_cc", "kegg"], resamples=50)
    table = same.to_frame()
    assert list(table.index) == [(t, m) for t in ("go_cc", "kegg") for m in ("map", "ami", "f05")]
    assert (table["difference"] == 0).all() and set(table["verdict"]) == {"no evidence"}
    cli = CliRunner().invoke(
        app,
        [
            "compare",
            str(tmp_path / "a.parquet"),
            str(tmp_path / "a.parquet"),
            "--json",
            "--tier",
            "go_cc",
            "--tier",
            "kegg",
            "--resamples",
            "50",
        ],
    )
    assert cli.exit_code == 0, cli.output
    record = json.loads(cli.stdout)
    assert record["tiers"]["go_cc"]["map"] == same.to_dict()["tiers"]["go_cc"]["map"]
    with pytest.raises(UsageError):
        repbench.compare(tmp_path / "missing.parquet", frame, tiers=["foo"])


def test_the_public_names(tmp_path):
    assert set(repbench.__all__) <= set(dir(repbench))
    for name in repbench.__all__:
        assert getattr(repbench, name) is not None
    st = repbench.standards()  # the module is also the function
    assert st.version == "yeast-v1" and repbench.standards.load() is st
    assert "random" in repbench.embedders()
    from repbench import standards as module

    assert module.TIERS == ("go_cc", "go_bp", "kegg", "complex")
    outcome = repbench.run("random", out=tmp_path / "run")
    assert outcome.scores.to_frame().loc["go_cc", "map"] == outcome.result["tiers"]["go_cc"]["map"]


def test_the_notebook_example_in_docs_api_md_runs(tmp_path, monkeypatch):
    """docs/api.md's ```python blocks, run in order in one namespace (as a notebook would)."""
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102 (our own documentation)
    assert isinstance(namespace["scores"], pd.DataFrame) and "map" in namespace["scores"].columns
