"""Plugins use only repbench's public API (docs/api.md, "What is public"), as a third-party plugin must.

Every ``import repbench...`` / ``from repbench... import name`` in the shipped plugins' package code (their
tests may reach further) names a public module, and each imported name is public there: in the module's
``__all__`` where it has one, else not starting with ``_``.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: docs/api.md, "What is public"
PUBLIC = (
    "repbench",
    "repbench.embedders",
    "repbench.errors",
    "repbench.progress",
    "repbench.torch",
    "repbench.data",
    "repbench.table",
    "repbench.results",
    "repbench.files",
    "repbench.standards",
    "repbench.verdicts",
)


def repbench_imports(source: str) -> list[tuple[int, str, str | None]]:
    """(line, module, name or None) of every import of repbench in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names if a.name.split(".")[0] == "repbench"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "repbench":
            found += [(node.lineno, node.module, a.name) for a in node.names]
    return found


def problems_of(source: str, where: str) -> list[str]:
    out = []
    for line, module, name in repbench_imports(source):
        if module not in PUBLIC:
            out.append(f"{where}:{line}: imports {module}, not a public module")
            continue
        if name is None:
            continue
        target = importlib.import_module(module)
        public = getattr(target, "__all__", None)
        if f"{module}.{name}" in PUBLIC:  # `from repbench import standards`: a public module
            continue
        if (name not in public) if public is not None else name.startswith("_"):
            out.append(f"{where}:{line}: imports {name} from {module}, not one of its public names")
    return out


PLUGIN_FILES = sorted(
    path
    for path in (ROOT / "plugins").glob("*/repbench_*/**/*.py")
    if "tests" not in path.relative_to(ROOT / "plugins").parts
)


def test_the_shipped_plugins_are_found():
    names = {path.relative_to(ROOT / "plugins").parts[0] for path in PLUGIN_FILES}
    assert {"baselines", "cellprofiler", "deeploc", "inpainting", "pifia", "template"} <= names


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(ROOT / "plugins")))
def test_plugin_code_imports_only_public_repbench(path):
    source = path.read_text()
    if any(module.startswith("repbench.torch") for _, module, _ in repbench_imports(source)):
        pytest.importorskip("torch")  # reading repbench.torch's public names imports it (the torch extra)
    assert problems_of(source, path.name) == []


def test_the_check_names_a_private_module_and_a_private_name():
    source = (
        "from repbench.evaluator import score_tier\n"
        "import repbench.cli.main\n"
        "from repbench.torch import _private\n"
        "from repbench.torch import generator\n"
        "from repbench import standards\n"
        "from repbench_other import x\n"
    )
    assert problems_of(source, "x.py") == [
        "x.py:1: imports repbench.evaluator, not a public module",
        "x.py:2: imports repbench.cli.main, not a public module",
        "x.py:3: imports _private from repbench.torch, not one of its public names",
    ]
