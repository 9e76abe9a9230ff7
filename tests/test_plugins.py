"""The plugin system through its real path: distributions with a ``repbench`` entry point on sys.path.

Each test writes throw-away packages (a module + a ``.dist-info`` with ``entry_points.txt``, which is
what ``pip install`` leaves behind) into tmp_path, and restricts loading to them with
REPBENCH_LOAD_PLUGINS so that the other installed plugins neither help nor hurt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repbench import plugins, results
from repbench.cli.main import app

REPO = Path(__file__).resolve().parents[1]

GOOD_PLUGIN = """
import numpy as np
import repbench
from repbench.embedders import Embedding

class Constant:
    name, description, version, requires_cells = "{name}", "a test embedder", "9.9", False

    def embed(self, request):
        rng = np.random.default_rng(request.seed)
        return Embedding(["YAL001C", "YAL002W", "YAL003W"], rng.standard_normal((3, 4)), params={{"lr": 0.1}})

@repbench.hookimpl
def register_embedders(register):
    register(Constant())
"""


def add_distribution(root: Path, dist: str, modules: dict[str, str], entry_points: dict[str, str]) -> None:
    """Write modules {name: source} and a dist-info for ``dist`` declaring entry points {name: module}."""
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("[repbench]\n" + "".join(f"{n} = {m}\n" for n, m in entry_points.items()))


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh folder on sys.path for fake distributions; plugin state and their modules forgotten after."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    plugins.reset()
    before = set(sys.modules)
    yield root
    plugins.reset()
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            del sys.modules[name]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_a_plugin_package_appears_in_plugins_json_and_runs(site, monkeypatch, tmp_path):
    add_distribution(
        site, "repbench-fake-good", {"fake_good": GOOD_PLUGIN.format(name="fake-good")}, {"good": "fake_good"}
    )
    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "good")

    listed = invoke("plugins", "--json")
    assert listed.exit_code == 0, listed.stderr
    payload = json.loads(listed.stdout)
    assert payload["warnings"] == []
    assert payload["embedders"] == [
        {
            "name": "fake-good",
            "description": "a test embedder",
            "version": "9.9",
            "package": "repbench-fake-good",
            "package_version": "1.2.3",
            "options": None,
        }
    ]
    info = plugins.embedders()["fake-good"]
    embedding = info.embedder.embed(type("Request", (), {"seed": 0})())
    assert embedding.vectors.shape == (3, 4)


def test_load_plugins_env_var_selects_by_entry_point_or_distribution(site, monkeypatch):
    add_distribution(site, "repbench-fake-a", {"fake_a": GOOD_PLUGIN.format(name="a")}, {"a": "fake_a"})
    add_distribution(site, "repbench-fake-b", {"fake_b": GOOD_PLUGIN.format(name="b")}, {"b": "fake_b"})
    for wanted, expected in [("a", {"a"}), ("repbench-fake-b", {"b"}), ("a, b", {"a", "b"}), ("", set())]:
        monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", wanted)
        plugins.reset()
        assert set(plugins.embedders()) == expected, wanted


def test_a_plugin_that_raises_on_import_is_a_warning_naming_it(site, monkeypatch):
    add_distribution(
        site, "repbench-fake-good", {"fake_good": GOOD_PLUGIN.format(name="fake-good")}, {"good": "fake_good"}
    )
    add_distribution(
        site, "repbench-fake-broken", {"fake_broken": "raise ImportError('needs libfoo')"}, {"broken": "fake_broken"}
    )
    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "good,broken")

    listed = invoke("plugins", "--json")
    assert listed.exit_code == 0
    payload = json.loads(listed.stdout)
    assert [e["name"] for e in payload["embedders"]] == ["fake-good"]  # the others still work
    assert payload["warnings"] == [
        {"plugin": "broken", "package": "repbench-fake-broken", "message": "failed to load: ImportError: needs libfoo"}
    ]
    assert "'broken' (package repbench-fake-broken)" in listed.stderr and "needs libfoo" in listed.stderr

    plugins.reset()
    strict = invoke("--strict-plugins", "plugins", "--json")
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["error"]["code"] == "plugin-failed"
    assert "repbench-fake-broken" in strict.stderr


def test_broken_registrations_are_warnings_and_the_first_of_two_names_wins(site, monkeypatch):
    raises = """
        import repbench

        @repbench.hookimpl
        def register_embedders(register):
            raise RuntimeError("boom")
    """
    not_an_embedder = """
        import repbench

        @repbench.hookimpl
        def register_embedders(register):
            register(object())
    """
    add_distribution(site, "repbench-fake-raises", {"fake_raises": raises}, {"raises": "fake_raises"})
    add_distribution(site, "repbench-fake-object", {"fake_object": not_an_embedder}, {"object": "fake_object"})
    add_distribution(
        site, "repbench-fake-first", {"fake_first": GOOD_PLUGIN.format(name="same")}, {"first": "fake_first"}
    )
    add_distribution(
        site, "repbench-fake-second", {"fake_second": GOOD_PLUGIN.format(name="same")}, {"second": "fake_second"}
    )
    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "raises,object,first,second")

    problems = {w.plugin: w for w in plugins.load_plugins()}
    assert set(problems) == {"raises", "object", "second"}
    assert "RuntimeError: boom" in problems["raises"].message
    assert "not an Embedder" in problems["object"].message
    assert "also provided by repbench-fake-first" in problems["second"].message
    assert plugins.embedders()["same"].package == "repbench-fake-first"  # first in (package, name) order wins
    with pytest.raises(plugins.RepbenchError) as error:
        plugins.load_plugins(strict=True)
    assert error.value.code == "plugin-failed"


def test_a_broken_plugin_does_not_break_the_cli_in_a_fresh_interpreter(site):
    """The real console script, with only the broken package added to the path."""
    add_distribution(site, "repbench-fake-broken", {"fake_broken": "1/0"}, {"broken": "fake_broken"})
    env = {**os.environ, "PYTHONPATH": str(site), "REPBENCH_LOAD_PLUGINS": "broken"}
    command = [sys.executable, "-c", "from repbench.cli.main import main; main()"]
    ok = subprocess.run(command + ["plugins", "--json"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "ZeroDivisionError" in ok.stderr and "repbench-fake-broken" in ok.stderr
    strict = subprocess.run(command + ["--strict-plugins", "plugins"], env=env, capture_output=True, text=True)
    assert strict.returncode == 1
    assert "plugin-failed" in strict.stderr and "Traceback" not in strict.stderr


def test_unknown_embedder_is_a_usage_error_listing_the_known_ones(site, monkeypatch):
    add_distribution(
        site, "repbench-fake-good", {"fake_good": GOOD_PLUGIN.format(name="fake-good")}, {"good": "fake_good"}
    )
    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "good")
    result = invoke("run", "--embedder", "nope", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "unknown-embedder" and "fake-good" in error["message"]


# --- the template plugin: installed (the CI installs it), or put on the path as pip -e would --------------------


@pytest.fixture
def template_installed(site, monkeypatch):
    try:
        metadata.distribution("repbench-template-embedder")
    except metadata.PackageNotFoundError:  # a bare checkout: the same entry point, without pip
        monkeypatch.syspath_prepend(str(REPO / "plugins" / "template"))
        add_distribution(site, "repbench-template-embedder", {}, {"template": "repbench_template"})
    monkeypatch.setenv("REPBENCH_LOAD_PLUGINS", "template")
    plugins.reset()


def test_the_template_plugin_is_listed_and_runs_end_to_end_on_a_small_demo(template_installed, tmp_path):
    listed = json.loads(invoke("plugins", "--json").stdout)
    assert [(e["name"], e["package"]) for e in listed["embedders"]] == [("template", "repbench-template-embedder")]

    out = tmp_path / "run"
    result = invoke("run", "--embedder", "template", "--data", "demo:proteins=40,cells=6", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert results.validate_record(record) == []
    assert record["input"]["metadata"]["embedder"] == "template"
    assert record["input"]["dimension"] == 14
    assert record["dataset"] == "synthetic"
    assert record["trajectory"] == []  # no training, no epochs
    assert {p.name for p in out.iterdir()} >= {"run.json", "trajectory.json", "embeddings.parquet", "result.json"}
