"""Every error code of the table reader, reached by a real malformed file, through the CLI as a user runs it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from repbench.cli.main import app
from repbench.table import Limits, read_table, write_table

runner = CliRunner()


@pytest.fixture(scope="module")
def orfs(standards):
    return list(standards.reference_proteome)[:60]


def _write(path, table: pa.Table, metadata: bytes | None = None):
    if metadata is not None:
        table = table.replace_schema_metadata({b"repbench": metadata})
    pq.write_table(table, path)
    return path


def _good(orfs, n=30, d=6, seed=0):
    vectors = np.random.default_rng(seed).standard_normal((n, d))
    return orfs[:n], vectors


def bad_files(tmp_path, orfs):
    """{code: path} of one real malformed file per error code."""
    p, v = _good(orfs)
    files = {}
    good = write_table(tmp_path / "good.parquet", p, v)
    raw = good.read_bytes()
    (tmp_path / "truncated.parquet").write_bytes(raw[: len(raw) // 2])
    files["not-parquet"] = tmp_path / "truncated.parquet"
    (tmp_path / "text.parquet").write_text("protein,embedding\nYAL001C,1\n")
    files["not-parquet/csv"] = tmp_path / "text.parquet"
    files["not-parquet/missing"] = tmp_path / "does-not-exist.parquet"
    files["empty"] = _write(
        tmp_path / "empty.parquet", pa.table({"protein": pa.array([], pa.string()), "x": pa.array([], pa.float64())})
    )
    files["missing-protein-column"] = _write(tmp_path / "noprot.parquet", pa.table({"gene": p, "x": v[:, 0]}))
    files["no-feature-columns"] = _write(tmp_path / "nofeat.parquet", pa.table({"protein": p}))
    files["non-numeric"] = _write(
        tmp_path / "text-col.parquet", pa.table({"protein": p, "x": v[:, 0], "note": ["a"] * 30})
    )
    ragged = [list(row) for row in v]
    ragged[3] = ragged[3][:4]
    files["ragged-embedding"] = _write(tmp_path / "ragged.parquet", pa.table({"protein": p, "embedding": ragged}))
    nan = v.copy()
    nan[5, 2] = np.nan
    nan[7, 0] = np.inf
    files["nan-or-inf"] = write_table(tmp_path / "nan.parquet", p, nan)
    const = v.copy()
    const[4] = 2.5
    files["constant-vector"] = write_table(tmp_path / "const.parquet", p, const)
    files["duplicate-protein"] = write_table(
        tmp_path / "dup.parquet", [*p[:-1], "yal001c".lower() if p[0] == "YAL001C" else p[0].lower()], v
    )
    files["too-large"] = write_table(tmp_path / "large.parquet", p, v)  # with a small limit below
    files["too-few-proteins"] = write_table(tmp_path / "few.parquet", p[:9] + [f"NOTAGENE{i}" for i in range(21)], v)
    files["bad-metadata"] = _write(
        tmp_path / "meta.parquet", pa.table({"protein": p, "x": v[:, 0], "y": v[:, 1]}), b"{not json"
    )
    files["missing-protein-id"] = _write(
        tmp_path / "blank.parquet", pa.table({"protein": ["", *p[1:]], "x": v[:, 0], "y": v[:, 1]})
    )
    return files


def test_every_error_code_has_a_clear_one_line_message_and_exit_1(tmp_path, orfs):
    out = tmp_path / "subs"
    for code, path in bad_files(tmp_path, orfs).items():
        code = code.split("/")[0]
        extra = ["--max-proteins", "10"] if code == "too-large" else []
        result = runner.invoke(app, ["submit", str(path), "--name", "x", "--to", str(out), *extra])
        assert result.exit_code == 1, (code, result.output)
        assert f"[{code}]" in result.output, (code, result.output)
        assert "Traceback" not in result.output
        assert str(path.name) in result.output  # the message names the file
        assert not out.exists() or not any(out.iterdir()), f"{code}: something was written"


def test_json_error_output_is_machine_readable(tmp_path, orfs):
    path = bad_files(tmp_path, orfs)["nan-or-inf"]
    result = runner.invoke(app, ["validate", str(path), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["error"]["code"] == "nan-or-inf"
    assert any(r.startswith("5 ") for r in payload["error"]["rows"]) and any(
        r.startswith("7 ") for r in payload["error"]["rows"]
    )


def test_pandas_frame_indexed_by_protein_with_aliases(tmp_path, standards, orfs):
    frame = pd.DataFrame(np.random.default_rng(1).standard_normal((25, 4)), columns=list("abcd"))
    frame.index = pd.Index(["nup2", "ADE5%2C7", "NOTAGENE", *orfs[:22]], name="protein")
    path = tmp_path / "frame.parquet"
    frame.to_parquet(path)
    table = read_table(path, standards)
    assert "YLR335W" in table.proteins and "YGL234W" in table.proteins  # NUP2, ADE5,7
    assert table.unknown == ["NOTAGENE"] and table.dimension == 4 and len(table.proteins) == 24


def test_metadata_round_trip_and_sha(tmp_path, standards, orfs):
    p, v = _good(orfs)
    path = write_table(tmp_path / "m.parquet", p, v, {"embedder": "x", "dataset": "synthetic"})
    table = read_table(path, standards)
    assert table.metadata == {"embedder": "x", "dataset": "synthetic"}
    assert len(table.sha256) == 64
    assert np.allclose(table.vectors, v.astype(np.float32))


def test_ambiguous_alias_is_dropped_with_a_warning(standards):
    from repbench.ids import normalise

    amb = [n for n in ("ACETYLTRANSFERASE", "1,3-BETA-GLUCANOSYLTRANSFERASE") if standards.idmap.is_ambiguous(n)]
    assert amb, "the shipped id map has ambiguous aliases"
    res = standards.idmap.resolve([amb[0], "yal001c", "TFC3", "tfc3 "])
    assert res.orfs == [None, "YAL001C", "YAL001C", "YAL001C"] and res.ambiguous == [amb[0]]
    assert normalise("ade5%2C7") == "ADE5,7"


def test_limits_are_configurable(tmp_path, standards, orfs):
    p, v = _good(orfs)
    path = write_table(tmp_path / "t.parquet", p, v)
    with pytest.raises(Exception) as err:
        read_table(path, standards, Limits(max_dimensions=3))
    assert err.value.code == "too-large"


def test_write_table_is_atomic(tmp_path, orfs, monkeypatch):
    p, v = _good(orfs)
    path = write_table(tmp_path / "t.parquet", p, v)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", boom)
    with pytest.raises(OSError):
        write_table(path, p, v * 2)
    assert path.read_bytes() == before
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []


# ---- details that reach the user: message texts, previews, and what write_table writes -----------------------


def test_null_in_a_feature_column_is_named(tmp_path, standards, orfs):
    p, v = _good(orfs)
    path = _write(tmp_path / "null.parquet", pa.table({"protein": p, "x": v[:, 0], "y": pa.array([1.0] * 29 + [None])}))
    with pytest.raises(Exception) as err:
        read_table(path, standards)
    assert (err.value.code, err.value.message, err.value.path) == (
        "nan-or-inf",
        "feature column 'y' has missing (null or NaN) values",
        str(path),
    )


def test_feature_columns_of_any_numeric_type_become_float64(tmp_path, standards, orfs):
    p = orfs[:12]
    columns = {
        "protein": p,
        "i": pa.array(range(12), pa.int8()),
        "f": pa.array(np.linspace(0, 1, 12), pa.float32()),
        "b": pa.array([i % 2 == 0 for i in range(12)]),
    }
    table = read_table(_write(tmp_path / "types.parquet", pa.table(columns)), standards)
    assert table.vectors.dtype == np.float64 and table.vectors.shape == (12, 3)
    assert np.array_equal(table.vectors[:, 0], np.arange(12.0))
    assert np.array_equal(table.vectors[:, 1], np.linspace(0, 1, 12).astype(np.float32).astype(np.float64))
    assert np.array_equal(table.vectors[:, 2], [1.0, 0.0] * 6)


def test_warnings_preview_at_most_eight_ids(tmp_path, standards, orfs):
    from repbench.table import ProteinTable

    def warnings(unknown, ambiguous=()):
        return ProteinTable(tmp_path, "0" * 64, 1, [], np.zeros((0, 1)), {}, list(unknown), list(ambiguous)).warnings

    eight = [f"N{i}" for i in range(8)]
    assert warnings(eight) == ["8 unknown protein id(s) dropped: " + ", ".join(repr(x) for x in eight)]
    assert warnings([*eight, "N8", "N9"], ["A'1"]) == [
        "10 unknown protein id(s) dropped: " + ", ".join(repr(x) for x in eight) + ", ... (2 more)",
        '1 ambiguous protein id(s) dropped: "A\'1"',
    ]
    assert warnings([]) == []


def test_parquet_errors_are_shortened_to_one_line():
    from repbench.table import _short

    assert _short(ValueError("a\n  b\tc ")) == "a b c"
    assert _short(ValueError("x" * 160)) == "x" * 160
    assert _short(ValueError("y" * 161)) == "y" * 160 + "..."


def test_write_table_round_trip_schema_and_metadata(tmp_path):
    path = tmp_path / "new" / "deeper" / "t.parquet"  # missing folders are made
    vectors = np.array([[0.1, 1e-8, 3.0], [-2.5, 7.0, 1 / 3]])  # float64 in, float32 stored
    assert write_table(path, ["YAL001C", 2], vectors, {"z": 1, "a": Path("p/q")}) == path
    table = pq.read_table(path)
    assert table.schema.field("protein").type == pa.string() and table.column("protein").to_pylist() == ["YAL001C", "2"]
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), 3)
    stored = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    assert np.array_equal(stored, vectors.astype(np.float32))
    assert table.schema.metadata == {b"repbench": b'{"a": "p/q", "z": 1}'}  # sorted keys, str() of non-JSON values
    assert pq.read_table(write_table(tmp_path / "plain.parquet", ["A"], np.ones((1, 2)))).schema.metadata is None


def test_write_table_refuses_vectors_of_the_wrong_shape(tmp_path):
    for vectors in (np.zeros(2), np.zeros((3, 2)), np.zeros((2, 2, 1))):
        with pytest.raises(ValueError, match="vectors must be"):
            write_table(tmp_path / "t.parquet", ["A", "B"], vectors)
    assert list(tmp_path.iterdir()) == []


def test_write_table_writes_a_hidden_temp_file_beside_the_target_then_renames(tmp_path, monkeypatch):
    seen = []
    real = pq.write_table

    def spy(table, where, *args, **kwargs):
        seen.append((where, sorted(os.listdir(tmp_path))))
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", spy)
    old = os.umask(0o022)
    try:
        path = write_table(tmp_path / "t.parquet", ["A"], np.ones((1, 2)))
    finally:
        os.umask(old)
    ((where, listing),) = seen
    where = Path(where)
    assert where.parent == tmp_path and where.name.startswith(".t.parquet.") and where.name.endswith(".tmp")
    assert listing == [where.name]  # during the write only the temp file exists; the target appears by rename
    assert sorted(os.listdir(tmp_path)) == ["t.parquet"]
    assert path.stat().st_mode & 0o777 == 0o644  # world-readable like every published file (umask 022)
