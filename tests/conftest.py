"""Shared fixtures: the shipped standards, small hand-made standards, and table writers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from repbench import standards as standards_mod
from repbench.standards import Standards, Tier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # the yardstick implementation lives there
sys.path.insert(0, str(ROOT / "tests"))  # tests import helpers from this conftest (pytest runs in importlib mode)


@pytest.fixture(scope="session")
def standards() -> Standards:
    return standards_mod.load()


def make_standards(tiers: dict[str, dict[str, list[str]]], reference: list[str] | None = None) -> Standards:
    """In-memory standards with the given {tier: {group: [ORFs]}} (for hand-computed cases)."""
    shipped = standards_mod.load()
    built = {
        name: Tier(name, {g: tuple(sorted(m)) for g, m in sorted(groups.items())}, {g: g for g in groups})
        for name, groups in tiers.items()
    }
    members = sorted({m for groups in tiers.values() for ms in groups.values() for m in ms})
    return Standards(
        version="test",
        root=shipped.root,
        manifest=shipped.manifest,
        manifest_sha256="0" * 64,
        official=False,
        tiers=built,
        reference_proteome=tuple(reference or members),
    )


def orf_names(n: int) -> list[str]:
    """n distinct systematic-looking ORF names (only for in-memory standards)."""
    return [f"YAL{i:03d}W" for i in range(n)]


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_collection_modifyitems(config, items):
    """Under mutmut (benchmarks/mutation.py), run a mutant's tests fastest first.

    mutmut runs each mutant's tests with ``-x``: the first failing test kills it, so a fast test that fails
    saves the slow ones. The order changes no verdict, only the time; ordinary runs keep the file order.
    """
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from mutants/, where it keeps its stats
    if "MUTANT_UNDER_TEST" not in os.environ or not stats.exists():
        return
    seconds = json.loads(stats.read_text())["duration_by_test"]
    items.sort(key=lambda item: seconds.get(item.nodeid, 0.0))
