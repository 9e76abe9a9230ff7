"""Hostile and broken tables: a committed corpus (tests/data/bad) and generated, mangled tables (hypothesis).

Whatever the input, `repbench` ends with exit status 0 (a valid table), 1 or 2, prints a one-line message,
never a traceback or an internal error, and writes nothing unless it succeeded.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from repbench.cli.main import app

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED = json.loads((BAD / "expected.json").read_text())
runner = CliRunner()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_fails_cleanly_with_its_code(tmp_path, name):
    out = tmp_path / "subs"
    result = runner.invoke(app, ["submit", str(BAD / name), "--name", "hostile", "--to", str(out)])
    assert result.exit_code == 1, result.output
    assert f"[{EXPECTED[name]}]" in result.output and name in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not out.exists()
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(lines) == 1


def test_hostile_ids_are_shown_escaped(tmp_path):
    result = runner.invoke(app, ["validate", str(BAD / "hostile-ids.parquet")])
    assert "\x1b[31m" not in result.output and "\x00" not in result.output  # control characters never reach the terminal


ORFS = [f"YAL{i:03d}{s}" for i, s in ((1, "C"), (2, "W"), (3, "W"), (5, "C"), (7, "C"), (8, "W"), (9, "W"), (10, "C"),
                                      (11, "W"), (12, "W"), (13, "W"), (14, "C"))]

mutations = st.sampled_from(["none", "truncate", "flip", "nan", "duplicate", "blank", "drop-protein", "strings", "metadata"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, len(ORFS)),
    d=st.integers(1, 6),
    mutation=mutations,
    where=st.floats(0, 1),
    seed=st.integers(0, 2**16),
)
def test_generated_and_mangled_tables_never_crash(tmp_path_factory, n, d, mutation, where, seed):
    tmp = tmp_path_factory.mktemp("h")
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, d))
    ids = list(ORFS[:n])
    columns = {"protein": pa.array(ids, pa.string())} | {f"f{j}": pa.array(v[:, j]) for j in range(d)}
    k = min(int(where * n), n - 1)
    if mutation == "nan":
        columns["f0"] = pa.array(np.where(np.arange(n) == k, np.nan, v[:, 0]))
    elif mutation == "duplicate":
        columns["protein"] = pa.array([ids[0] if i == k else p for i, p in enumerate(ids)], pa.string())
    elif mutation == "blank":
        columns["protein"] = pa.array(["" if i == k else p for i, p in enumerate(ids)], pa.string())
    elif mutation == "drop-protein":
        del columns["protein"]
    elif mutation == "strings":
        columns["f0"] = pa.array([str(x) for x in v[:, 0]])
    table = pa.table(columns)
    if mutation == "metadata":
        table = table.replace_schema_metadata({b"repbench": bytes(rng.integers(0, 256, 12, dtype=np.uint8))})
    path = tmp / "t.parquet"
    pq.write_table(table, path)
    raw = path.read_bytes()
    if mutation == "truncate":
        path.write_bytes(raw[: int(where * len(raw))])
    elif mutation == "flip":
        mangled = bytearray(raw)
        for pos in rng.integers(0, len(raw), 8):
            mangled[pos] ^= 0xFF
        path.write_bytes(bytes(mangled))
    out = tmp / "subs"
    result = runner.invoke(app, ["submit", str(path), "--name", "h", "--to", str(out)])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    if result.exit_code == 0:
        assert (out / "h.json").is_file()
    else:
        assert "error [" in result.output
        assert not out.exists()
