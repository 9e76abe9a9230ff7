"""`repbench data convert / info / generate` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from repbench.cli.main import app
from repbench.data import open_cells

TOY = Path(__file__).parent / "data" / "yeast_toy"
runner = CliRunner()


def test_convert_then_info_json(tmp_path):
    out = tmp_path / "toy_shards"
    result = runner.invoke(app, ["-q", "data", "convert", str(TOY), str(out), "--cells-per-shard", "25"])
    assert result.exit_code == 0, result.output
    assert (out / "header.json").is_file() and len(list((out / "shards").iterdir())) == 3
    result = runner.invoke(app, ["data", "info", str(out), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["ok"] and info["dataset"] == "real" and info["cells"] == 60 and info["proteins"] == 5
    assert info["splits"] == {"train": 50, "val": 5, "test": 5}
    assert len(info["classes"]) == 17 and info["cells_per_class"]["MITOCHONDRIA"] == 24
    np.testing.assert_array_equal(open_cells(str(out)).read([7]), open_cells(str(TOY)).read([7]))


def test_convert_errors_are_one_line_with_exit_1(tmp_path):
    result = runner.invoke(app, ["data", "convert", str(tmp_path / "nope"), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "[data-not-found]" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_info_json_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["data", "info", str(tmp_path / "empty"), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "data-unknown-format"


def test_generate_and_info_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("REPBENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "syn"
    result = runner.invoke(app, ["-q", "data", "generate", str(out), "--proteins", "6", "--cells", "4", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dataset"] == "synthetic"
    result = runner.invoke(app, ["data", "info", "demo:proteins=6,cells=4", "--json"])
    info = json.loads(result.stdout)
    assert info["name"] == "demo" and info["cells"] == 24 and info["dataset"] == "synthetic"


def test_info_counts_the_classes_present(tmp_path):
    """Not the length of the class list: '6 of 17 classes present' for a small demo set."""
    result = CliRunner().invoke(app, ["data", "info", "demo:proteins=20,cells=2"])
    assert result.exit_code == 0, result.output
    info = json.loads(CliRunner().invoke(app, ["data", "info", "demo:proteins=20,cells=2", "--json"]).stdout)
    present = sum(1 for n in info["cells_per_class"].values() if n)
    assert present < len(info["classes"])
    assert f"{present} of {len(info['classes'])} classes present" in result.stdout
