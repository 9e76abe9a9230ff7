"""``repbench run`` with a scripted embedder: the files of a run folder, the per-epoch trajectory, resume, errors.

The embedder is a throw-away distribution on sys.path (the real entry-point path). It needs no cells: it
returns, for 80 GO-CC proteins, their group membership plus noise (so the scores are far above chance),
and reports the epochs listed in its ``epochs`` option.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repbench import plugins, results, run
from repbench.cli.main import app
from repbench.errors import RepbenchError, UsageError
from repbench.run import run_embedder

SCRIPTED = """
import numpy as np
import repbench
from repbench import standards
from repbench.embedders import Embedding, EpochReport


class Scripted:
    name, description, version, requires_cells = "scripted", "GO-CC membership plus noise", "0.3", False

    def embed(self, request):
        if request.options.get("mode") == "raise":
            raise RuntimeError("out of memory")
        if request.options.get("mode") == "bad":
            return [[1.0, 2.0]]
        tier = standards.load().tiers["go_cc"]
        proteins = sorted(tier.members)[:80]
        members = [set(m) for m in tier.groups.values()]
        onehot = np.array([[p in m for m in members] for p in proteins], dtype=float)
        rng = np.random.default_rng(request.seed)
        vectors = onehot + 0.3 * rng.standard_normal(onehot.shape)
        offset = float(request.options.get("loss_offset", 0))
        for epoch in [int(e) for e in request.options.get("epochs", "").split(",") if e]:
            request.on_epoch(EpochReport(epoch, Embedding(proteins, vectors), {"train_loss": offset + epoch}))
        return Embedding(proteins, vectors, params={"learning_rate": 0.01})


@repbench.hookimpl
def register_embedders(register):
    register(Scripted())
"""


@pytest.fixture(autouse=True)
def scripted_plugin(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "fake_scripted.py").write_text(textwrap.dedent(SCRIPTED))
    info = site / "repbench_fake_scripted-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: repbench-fake-scripted\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[repbench]\nscripted = fake_scripted\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "scripted")
    plugins.reset()
    yield
    plugins.reset()
    sys.modules.pop("fake_scripted", None)


def test_a_run_writes_its_folder_and_scores_every_epoch(tmp_path):
    out = tmp_path / "run"
    outcome = run.run_embedder("scripted", out=out, seed=3, options={"epochs": "1,2"})

    assert {p.name for p in out.iterdir()} == {"run.json", "trajectory.json", "embeddings.parquet", "result.json"}
    result = json.loads((out / "result.json").read_text())
    assert result == json.loads(json.dumps(outcome.result))
    assert results.validate_record(result) == []
    assert result["input"]["proteins"] == 80
    assert result["input"]["metadata"] == {
        "embedder": "scripted",
        "version": "0.3",
        "dataset": "none",
        "data": "demo",
        "protocol": "quick",
        "seed": 3,
        "params": {"learning_rate": 0.01},
    }
    go_cc = result["tiers"]["go_cc"]
    assert go_cc["map"] > 3 * go_cc["prevalence"]  # the membership signal survives table + evaluation

    trajectory = result["trajectory"]
    assert [e["epoch"] for e in trajectory] == [1, 2]
    assert trajectory == json.loads((out / "trajectory.json").read_text())
    assert trajectory[1]["logs"] == {"train_loss": 2.0}
    assert set(trajectory[0]["tiers"]) == set(result["tiers"])
    assert set(trajectory[0]["tiers"]["go_cc"]) == {"f05", "map", "ami", "ap"}
    # the epoch vectors are the final ones here, so the epoch scores equal the final scores
    assert trajectory[1]["tiers"]["go_cc"]["map"] == pytest.approx(go_cc["map"])

    config = json.loads((out / "run.json").read_text())
    assert config["embedder"] == "scripted" and config["package"] == "repbench-fake-scripted"
    assert config["seed"] == 3 and config["options"] == {"epochs": "1,2"}


def test_a_resumed_run_replaces_the_epochs_it_reports_again_and_another_configuration_starts_afresh(tmp_path):
    out = tmp_path / "run"
    run.run_embedder("scripted", out=out, options={"epochs": "1,2"})
    # the rerun resumes from a checkpoint after epoch 1: it reports epochs 2 and 3
    outcome = run.run_embedder("scripted", out=out, options={"epochs": "2,3", "loss_offset": "10"})
    trajectory = outcome.result["trajectory"]
    assert [(e["epoch"], e["logs"]["train_loss"]) for e in trajectory] == [(1, 1.0), (2, 12.0), (3, 13.0)]
    assert json.loads((out / "trajectory.json").read_text()) == trajectory

    # another seed in the same folder is another run, not a resume: its trajectory starts empty
    outcome = run.run_embedder("scripted", out=out, seed=1, options={"epochs": "2"})
    assert [e["epoch"] for e in outcome.result["trajectory"]] == [2]

    # a failed rerun leaves no result of an earlier run next to its own run.json
    with pytest.raises(RepbenchError, match="embedder-failed"):
        run.run_embedder("scripted", out=out, seed=1, options={"mode": "raise"})
    assert not (out / "result.json").exists() and not (out / "embeddings.parquet").exists()


def test_the_cli_prints_the_record_as_json_and_scores_for_humans(tmp_path):
    runner = CliRunner()
    as_json = runner.invoke(
        app, ["run", "--embedder", "scripted", "--out", str(tmp_path / "a"), "--json", "--option", "epochs=1"]
    )
    assert as_json.exit_code == 0, as_json.stderr
    record = json.loads(as_json.stdout)
    assert record["input"]["metadata"]["embedder"] == "scripted" and len(record["trajectory"]) == 1

    human = runner.invoke(app, ["run", "--embedder", "scripted", "--out", str(tmp_path / "b")])
    assert human.exit_code == 0, human.stderr
    # the scores are the command's result: stdout, one line per tier (no wrapping when piped);
    # where the run folder is goes to stderr with the progress
    lines = human.stdout.splitlines()
    assert any(line.startswith("│ go_cc") for line in lines), human.stdout
    assert "run folder:" in human.stderr and "run folder:" not in human.stdout


@pytest.mark.parametrize(
    "args, status, code",
    [
        (["--embedder", "nope"], 2, "unknown-embedder"),
        (["--embedder", "scripted", "--option", "epochs"], 2, "bad-option"),
        (["--embedder", "scripted", "--option", "mode=raise"], 1, "embedder-failed"),
        (["--embedder", "scripted", "--option", "mode=bad"], 1, "embedder-bad-output"),
    ],
)
def test_bad_runs_fail_with_a_code_and_write_no_result(tmp_path, args, status, code):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", *args, "--out", str(out), "--json"])
    assert result.exit_code == status, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code
    if code == "unknown-embedder":
        assert "scripted" in error["message"]  # lists the known ones
    if code == "embedder-failed":
        assert "repbench-fake-scripted" in error["message"] and "out of memory" in error["message"]
    assert not (out / "result.json").exists()


@pytest.mark.parametrize("args, listed", [(["--protocol", "slow"], "quick"), (["--device", "tpu"], "cuda")])
def test_a_bad_choice_is_refused_by_the_command_line_with_the_choices(tmp_path, args, listed):
    result = CliRunner().invoke(app, ["run", "--embedder", "scripted", *args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and listed in result.output and args[1] in result.output
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kwargs, code", [({"protocol": "slow"}, "bad-protocol"), ({"device": "tpu"}, "bad-device")])
def test_the_library_refuses_a_bad_choice_with_a_code(tmp_path, kwargs, code):
    with pytest.raises(UsageError) as caught:
        run_embedder("scripted", out=tmp_path / "run", **kwargs)
    assert caught.value.code == code and not (tmp_path / "run").exists()


def test_default_folders_and_options():
    assert run.default_out_dir("deeploc", "demo", "quick", 0) == Path("runs/deeploc-demo-quick-seed0")
    assert run.default_out_dir("t", "demo:proteins=20,cells=8", "paper", 2) == Path(
        "runs/t-demo-proteins-20-cells-8-paper-seed2"
    )
    assert run.default_out_dir("t", "/data/my screen/", "quick", 0) == Path("runs/t-my-screen-quick-seed0")
    assert run.parse_options(["lr=0.1", "note=a=b"]) == {"lr": "0.1", "note": "a=b"}
    with pytest.raises(UsageError):
        run.parse_options(["=3"])


def test_data_that_cannot_be_evaluated_is_refused_before_training(tmp_path, monkeypatch):
    """5 toy proteins: the table would be refused (too-few-proteins), so the run stops before embed."""
    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "template")
    plugins.reset()
    result = CliRunner().invoke(
        app, ["run", "-e", "template", "--data", "demo:proteins=5,cells=4", "--out", str(tmp_path / "run"), "--json"]
    )
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "too-few-proteins" and "nothing was trained" in error["message"]
    assert not (tmp_path / "run").exists()
    assert not result.stderr.startswith("\n")  # no blank line before the error
