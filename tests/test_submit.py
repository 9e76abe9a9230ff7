"""`repbench submit`: records land inside their folder whatever the name, atomically, never silently replaced."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from repbench.cli.main import app
from repbench.results import validate_record
from repbench.table import write_table

runner = CliRunner()


@pytest.fixture(scope="module")
def table_path(tmp_path_factory, standards):
    proteins = list(standards.reference_proteome)[:120]
    vectors = np.random.default_rng(0).standard_normal((120, 8))
    return write_table(
        tmp_path_factory.mktemp("t") / "emb.parquet", proteins, vectors, {"embedder": "test", "dataset": "real"}
    )


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/etc/passwd",
        "a/../../b",
        "C:\\windows\\evil",
        "x" * 500,
        "Ünïcödé Mödel ☃",
        "<script>alert(1)</script>",
    ],
)
def test_hostile_names_stay_inside_the_folder(tmp_path, table_path, name):
    out = tmp_path / "subs"
    result = runner.invoke(app, ["submit", str(table_path), "--name", name, "--to", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 2 and all(not n.startswith(".") for n in written)  # record + table copy, nothing else
    assert not any((tmp_path / n).exists() for n in ("x.json", "passwd.json", "b.json"))
    record = json.loads(next(out.glob("*.json")).read_text())
    assert record["submission"]["name"] == name.strip()
    assert len(record["submission"]["slug"]) <= 64
    assert validate_record(record) == []


@pytest.mark.parametrize("name", ["", "   ", "../", "..", "☃☃"])
def test_names_without_letters_are_refused(tmp_path, table_path, name):
    out = tmp_path / "subs"
    result = runner.invoke(app, ["submit", str(table_path), "--name", name, "--to", str(out)])
    assert result.exit_code == 1 and "[bad-name]" in result.output
    assert not out.exists()


def test_refuses_to_overwrite_without_replace(tmp_path, table_path):
    out = tmp_path / "subs"
    assert runner.invoke(app, ["submit", str(table_path), "--name", "Model A", "--to", str(out)]).exit_code == 0
    first = (out / "model-a.json").read_text()
    again = runner.invoke(app, ["submit", str(table_path), "--name", "model a", "--to", str(out)])
    assert again.exit_code == 1 and "[exists]" in again.output
    assert (out / "model-a.json").read_text() == first
    replaced = runner.invoke(
        app, ["submit", str(table_path), "--name", "model a", "--to", str(out), "--replace", "--reference"]
    )
    assert replaced.exit_code == 0
    assert json.loads((out / "model-a.json").read_text())["submission"]["reference"] is True


def test_submit_json_and_record_contents(tmp_path, table_path):
    out = tmp_path / "subs"
    result = runner.invoke(
        app, ["submit", str(table_path), "--name", "M", "--description", "d", "--to", str(out), "--json"]
    )
    payload = json.loads(result.stdout)  # stdout holds JSON and nothing else
    record = payload["result"]
    assert record["input"]["metadata"] == {"embedder": "test", "dataset": "real"}
    assert (
        record["dataset"] == "real"
        and record["submission"]["embedding_file"] == f"m.{record['input']['sha256'][:12]}.parquet"
    )
    assert set(record["tiers"]) == {"go_cc", "go_bp", "kegg", "complex"}
    assert record["coverage"] == pytest.approx(120 / 4155)
    assert (out / record["submission"]["embedding_file"]).read_bytes() == table_path.read_bytes()


def test_validate_record_rejects_broken_records():
    assert validate_record([]) == ["not a JSON object"]
    assert any("schema" in p for p in validate_record({"schema": "other"}))
