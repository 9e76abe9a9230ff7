"""The command line as a new user meets it: options models, stdout vs stderr, progress, extras, records."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import repbench
from repbench import results
from repbench.cli.main import app
from repbench.embedders import Option, check_options, parse_options
from repbench.errors import MissingExtra, UsageError
from repbench.files import file_sha256, write_atomic

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def table_path(tmp_path_factory) -> Path:
    st = repbench.standards()
    orfs = sorted(st.tiers["go_cc"].members)[:200]
    frame = pd.DataFrame(
        np.random.default_rng(3).standard_normal((200, 6)),
        index=pd.Index(orfs, name="protein"),
        columns=[f"f{i}" for i in range(6)],
    )
    path = tmp_path_factory.mktemp("table") / ("a-rather-long-folder-name-" * 4) / "t.parquet"
    path.parent.mkdir()
    frame.to_parquet(path)
    return path


# ---- the options model ----------------------------------------------------------------------------------


def test_option_parsing_types_words_and_refusals():
    epochs = Option("epochs", int, None, "epochs", positive=True, words={"all": None})
    assert epochs.parse("3") == 3 and epochs.parse(3) == 3 and epochs.parse("all") is None
    assert epochs.parse(None) is None  # idempotent: an already parsed word passes again
    flag = Option("costes", bool, False)
    assert flag.parse("yes") is True and flag.parse("off") is False and flag.parse(True) is True
    layer = Option("layer", str, "b", choices=("a", "b"))
    assert layer.parse("a") == "a"
    rate = Option("lr", float, None, positive=True)
    assert rate.parse("1e-3") == 0.001
    for option, raw in [
        (epochs, "0"),
        (epochs, "2.5"),
        (epochs, "x"),
        (epochs, True),
        (flag, "maybe"),
        (layer, "c"),
        (rate, "-1"),
        (rate, "nan"),
    ]:
        with pytest.raises(UsageError) as caught:
            option.parse(raw)
        message = str(caught.value)
        assert caught.value.code == "bad-option" and option.name in message and option.kind in message


def test_check_options_names_the_unknown_key_and_lists_the_valid_ones():
    class Fake:
        name = "fake"
        options = (Option("epochs", int, 3, positive=True), Option("mode", str, "a", choices=("a", "b")))

    assert check_options(Fake(), {"epochs": "5"}) == {"epochs": 5}
    with pytest.raises(UsageError) as caught:
        check_options(Fake(), {"bogus": "1"})
    message = str(caught.value)
    assert caught.value.code == "unknown-option" and "'bogus'" in message
    assert "epochs (int > 0, default 3)" in message and "mode (one of a|b, default a)" in message
    assert parse_options("none", (), {}) == {}

    class Old:  # declares nothing: its raw strings pass through, it checks them itself
        name = "old"

    assert check_options(Old(), {"x": "1"}) == {"x": "1"}


@pytest.mark.parametrize(
    "embedder", ["deeploc", "inpainting", "cellprofiler", "random", "localization", "shuffled", "template"]
)
def test_every_builtin_embedder_declares_its_options_and_refuses_a_bogus_one(tmp_path, embedder):
    if embedder not in repbench.embedders():
        pytest.skip(f"{embedder} is not installed")
    result = runner.invoke(
        app, ["run", "--embedder", embedder, "--option", "bogus_option=1", "--out", str(tmp_path / "run"), "--json"]
    )
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "unknown-option" and "bogus_option" in error["message"]
    assert not (tmp_path / "run").exists()  # refused before any work
    listed = runner.invoke(app, ["plugins", "--options", embedder, "--json"])
    assert listed.exit_code == 0, listed.output
    options = json.loads(listed.stdout)["options"]
    assert isinstance(options, list) and all(set(o) == {"name", "type", "default", "help"} for o in options)


def test_a_bad_option_value_exits_2_naming_it(tmp_path):
    result = runner.invoke(app, ["run", "-e", "deeploc", "-o", "epochs=zero", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "[bad-option]" in result.output and "epochs=zero" in result.output
    shown = runner.invoke(app, ["plugins", "--options", "deeploc"])
    assert shown.exit_code == 0 and "train_cells" in shown.stdout and "int > 0 | all" in shown.stdout
    unknown = runner.invoke(app, ["plugins", "--options", "nope"])
    assert unknown.exit_code == 2 and "[unknown-embedder]" in unknown.output


# ---- stdout, stderr, progress, flags ----------------------------------------------------------------------


def test_scores_go_to_stdout_unwrapped_and_progress_lines_to_stderr(table_path):
    result = runner.invoke(app, ["evaluate", str(table_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith("│ ")]
    assert [row.split()[1] for row in rows] == ["go_cc", "go_bp", "kegg", "complex"]  # one line per tier
    assert "evaluator" in lines[0] and len(lines[0]) > 80  # not wrapped at 80 columns when piped
    # stderr is not a terminal here: plain progress lines, first and last
    assert "evaluating tiers: 0/4" in result.stderr and "evaluating tiers: 4/4" in result.stderr
    quiet = runner.invoke(app, ["evaluate", str(table_path), "-q"])  # -q after the subcommand
    assert quiet.exit_code == 0 and "evaluating tiers" not in quiet.stderr and quiet.stdout == result.stdout


def test_bare_repbench_shows_help_and_succeeds():
    result = runner.invoke(app, [])
    assert result.exit_code == 0 and "evaluate" in result.stdout and "Usage" in result.stdout


def test_json_is_a_flag_without_a_value(table_path):
    helped = runner.invoke(app, ["evaluate", "--help"])
    json_line = next(line for line in helped.stdout.splitlines() if "--json" in line)
    assert "<bool>" not in json_line
    refused = runner.invoke(app, ["evaluate", str(table_path), "--json", "true"])
    assert refused.exit_code == 2  # 'true' is an unexpected extra argument


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate"],
        ["compare"],
        ["validate"],
        ["submit"],
        ["standards"],
        ["run"],
        ["plugins"],
        ["run-merge"],
        ["data", "convert"],
        ["data", "info"],
        ["data", "generate"],
        ["leaderboard", "build"],
        ["leaderboard", "serve"],
    ],
)
def test_help_texts_keep_their_words(command):
    """Square brackets in a help text are rich markup: '[default: X]' vanished and left 'cache .'."""
    shown = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert not re.search(r"\w \.(\s|$)", shown.stdout), shown.stdout


def test_the_plain_progress_reporter_prints_start_end_and_restarts(monkeypatch, capsys):
    from repbench.cli import common

    report = common._Reporter(None, every=3600)
    for done in range(0, 11):
        report("stage", done, 10)
    report("stage", 10, 10)  # a repeated end is not printed twice
    report("stage", 0, 5)  # a new stage of the same name starts again
    report("other", 7, None)
    assert capsys.readouterr().err.splitlines() == ["stage: 0/10", "stage: 10/10", "stage: 0/5", "other: 7"]


# ---- submit and the leaderboard -------------------------------------------------------------------------


def test_submit_finds_the_leaderboard_like_git_and_takes_a_dataset(tmp_path, table_path, monkeypatch):
    board = tmp_path / "project" / "leaderboard" / "submissions"
    board.mkdir(parents=True)
    deep = tmp_path / "project" / "work" / "deeper"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.delenv("REPBENCH_LEADERBOARD", raising=False)
    result = runner.invoke(app, ["submit", str(table_path), "--name", "My model", "--dataset", "real"])
    assert result.exit_code == 0, result.output
    record = json.loads((board / "my-model.json").read_text())
    assert record["dataset"] == "real" and str(board / "my-model.json") in result.stderr.replace("\n", "")
    assert not (deep / "leaderboard").exists()  # nothing made where the command ran
    assert results.validate_record(record, submission=True) == []

    bad = runner.invoke(app, ["submit", str(table_path), "--name", "x", "--dataset", "imagined"])
    assert bad.exit_code == 2 and "real" in bad.output  # typer lists the choices

    monkeypatch.chdir(tmp_path)
    lost = runner.invoke(app, ["submit", str(table_path), "--name", "Other"])
    assert lost.exit_code == 1 and "[no-leaderboard]" in lost.output and "REPBENCH_LEADERBOARD" in lost.output
    monkeypatch.setenv("REPBENCH_LEADERBOARD", str(board.parent))
    found = runner.invoke(app, ["submit", str(table_path), "--name", "Other", "--json"])
    assert found.exit_code == 0 and json.loads(found.stdout)["record"] == str(board / "other.json")


# ---- missing optional dependencies ---------------------------------------------------------------------

BLOCKER = textwrap.dedent("""
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == {module!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    sys.argv = ["repbench", *{args!r}]
    from repbench.cli.main import main
    main()
""")


def run_without(module: str, args: list[str], cwd: Path, plugins: str = "deeploc") -> subprocess.CompletedProcess:
    """The CLI in a fresh interpreter in which ``module`` cannot be imported (as if not installed)."""
    env = {**os.environ, "REPBENCH_LOAD_PLUGINS": plugins}
    code = BLOCKER.format(module=module, args=args)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_a_missing_extra_is_one_line_naming_it(tmp_path):
    (tmp_path / "leaderboard" / "submissions").mkdir(parents=True)
    site = run_without("matplotlib", ["leaderboard", "build"], tmp_path)
    assert site.returncode == 1, site.stderr
    lines = [line for line in site.stderr.splitlines() if line.strip()]
    assert lines == [
        "error [missing-extra] the leaderboard site needs the 'site' extra (matplotlib is not "
        "installed): pip install 'repbench[site]'"
    ]
    assert not (tmp_path / "leaderboard" / "site").exists()

    torch = run_without(
        "torch",
        ["run", "-e", "deeploc", "--data", "demo:proteins=40,cells=4", "--out", str(tmp_path / "run")],
        tmp_path,
    )
    assert torch.returncode == 1, torch.stderr
    errors = [line for line in torch.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "pip install 'repbench[torch]'" in errors[0] and "Traceback" not in torch.stderr


def test_an_embedder_whose_extra_is_missing_says_so(tmp_path):
    if "cellprofiler" not in repbench.embedders():
        pytest.skip("the cellprofiler plugin is not installed")
    result = run_without(
        "cp_measure", ["run", "-e", "cellprofiler", "--out", str(tmp_path / "r")], tmp_path, plugins="cellprofiler"
    )
    assert result.returncode == 1, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(error) == 1 and "[plugin-failed]" in error[0] and "pip install 'repbench[cellprofiler]'" in error[0]


def test_missing_extra_errors_survive_a_worker_process():
    import pickle

    error = MissingExtra.for_module("cp_measure.bulk")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is MissingExtra and str(again) == str(error) and "repbench[cellprofiler]" in str(again)
    assert MissingExtra.for_module("numpy") is None


# ---- the typed record, the atomic write ----------------------------------------------------------------


def test_the_typed_record_keeps_unknown_fields_and_lists_every_problem(table_path):
    record = repbench.evaluate(table_path).to_dict()
    record["tiers"]["go_cc"]["a_later_field"] = 0.25  # a later evaluator's field
    record["a_new_block"] = {"x": 1}
    typed = results.Record.from_dict(record)
    assert typed.tiers["go_cc"].map == record["tiers"]["go_cc"]["map"]
    assert typed.tiers["go_cc"].extra["a_later_field"] == 0.25
    assert typed.to_dict() == record
    broken = json.loads(json.dumps(record))
    broken["coverage"] = 2
    broken["tiers"]["kegg"]["map"] = "high"
    broken["input"]["sha256"] = "no"
    problems = results.validate_record(broken)
    assert problems == [
        "input.sha256: not a sha256",
        "coverage: not a number in [0, 1]",
        "tiers.kegg.map: not a number in [-1, 1]",
    ]
    with pytest.raises(results.RepbenchError) as caught:
        results.Record.from_dict(broken)
    assert caught.value.code == "invalid-record"
    assert results.validate_record(record, submission=True)[0].startswith("no submission block")


def test_write_atomic_leaves_the_old_file_or_the_new_one(tmp_path):
    target = tmp_path / "f.bin"
    write_atomic(target, b"old")

    def crash(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_atomic(target, write=crash)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
    write_atomic(target, "new")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o666 & ~results.current_umask()
    assert file_sha256(target) == "11507a0e2f5e69d5dfa40a62a1bd7b6ee57e6bcd85c67c9b8431b36fff21c437"


def test_a_records_tiers_are_those_of_its_standards_set():
    assert set(results.tiers_of("yeast-v1")) == {"go_cc", "go_bp", "kegg", "complex"}
    assert "reactome" not in results.tiers_of("yeast-v1")
    overridden = results.tiers_of("my-own-set+unofficial")  # not shipped: any shipped set's tier
    assert {"go_cc", "kegg"} <= set(overridden)
    if "human-v1" in repbench.standards.shipped_versions():
        assert "reactome" in results.tiers_of("human-v1") and "kegg" not in results.tiers_of("human-v1")
