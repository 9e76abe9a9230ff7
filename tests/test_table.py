"""Every error code of the table reader, reached by a real malformed file, through the CLI as a user runs it."""

from __future__ import annotations

import dataclasses
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
from repbench.errors import RepbenchError
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


# ---- the exact error of each malformed table: code, message, rows and file (what a user reads) ---------------


def _error(call, *args, **kwargs):
    """(code, message, rows, path) of the RepbenchError that ``call(*args, **kwargs)`` raises."""
    with pytest.raises(RepbenchError) as err:
        call(*args, **kwargs)
    return err.value.code, err.value.message, err.value.rows, err.value.path


def _short_reference(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 160 else text[:160] + "..."


def _corrupt_column(path: Path, name: str) -> Path:
    """Overwrite the data of column ``name`` with 0xFF bytes: the footer stays readable, that column's pages not."""
    metadata = pq.ParquetFile(path).metadata.row_group(0)
    (chunk,) = [metadata.column(i) for i in range(metadata.num_columns) if metadata.column(i).path_in_schema == name]
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    raw = bytearray(path.read_bytes())
    raw[start : start + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    path.write_bytes(bytes(raw))
    return path


def _list_table(ids, rows, kind=None):
    return pa.table({"protein": ids, "embedding": pa.array(rows, kind)})


def malformed(tmp_path, orfs):
    """[(name, path, read_table keywords, (code, message, rows))]: one real malformed file per error case."""
    p, v = _good(orfs, n=12, d=3)
    rows = [list(r) for r in v]
    cases = []

    def case(name, table_or_path, expected, **kwargs):
        path = table_or_path if isinstance(table_or_path, Path) else _write(tmp_path / f"{name}.parquet", table_or_path)
        cases.append((name, path, kwargs, expected))

    case("missing", tmp_path / "nowhere.parquet", ("not-parquet", "file not found", []))
    (tmp_path / "folder.parquet").mkdir()
    case("folder", tmp_path / "folder.parquet", ("not-parquet", "not a regular file", []))
    case(
        "metadata-array",
        pa.table({"protein": p, "x": v[:, 0]}).replace_schema_metadata({b"repbench": b"[1, 2]"}),
        ("bad-metadata", "Parquet metadata 'repbench' must be a JSON object", []),
    )
    names = {f"c{i}": v[:, 0] for i in range(7)}
    case(
        "no-protein",
        pa.table(names),
        (
            "missing-protein-column",
            "no column 'protein' (columns: 'c0', 'c1', 'c2', 'c3', 'c4', 'c5', ... (1 more)); "
            "name the id column or the DataFrame index 'protein'",
            [],
        ),
    )
    case(
        "empty",
        pa.table({"protein": pa.array([], pa.string()), "x": pa.array([], pa.float64())}),
        ("empty", "the table has no rows", []),
    )
    case(
        "too-many-rows",
        pa.table({"protein": p, "x": v[:, 0]}),
        ("too-large", "12 rows; the limit is 11 proteins (raise it with --max-proteins)", []),
        limits=Limits(max_proteins=11),
    )
    case(
        "blank-ids",
        pa.table({"protein": [p[0], "", p[2], None, " \t", *p[5:]], "x": v[:, 0], "y": v[:, 1]}),
        ("missing-protein-id", "empty or missing protein ids", ["1", "3", "4"]),
    )
    others = {name: v[:, 0] for name in "abcde"}
    case(
        "mixed-layout",
        pa.table({"protein": p, "embedding": rows, **others}),
        (
            "mixed-layout",
            "a list column 'embedding' and other columns ('a', 'b', 'c', 'd', ... (1 more)); "
            "keep only 'protein' and 'embedding'",
            [],
        ),
    )
    case(
        "one-other-column",
        pa.table({"protein": p, "embedding": rows, "x": v[:, 0]}),
        (
            "mixed-layout",
            "a list column 'embedding' and other columns ('x'); keep only 'protein' and 'embedding'",
            [],
        ),
    )
    case(
        "bytes-ids",
        pa.table({"protein": pa.array([x.encode() for x in p]).dictionary_encode(), "x": v[:, 0]}),
        (
            "non-string-protein",
            "column 'protein' must hold strings, found dictionary<values=binary, indices=int32, ordered=0>",
            [],
        ),
    )
    case("ids-only", pa.table({"protein": p}), ("no-feature-columns", "no feature columns besides 'protein'", []))
    case(
        "too-many-columns",
        pa.table({"protein": p, **{f"x{i}": v[:, 0] for i in range(4)}}),
        ("too-large", "4 feature columns; the limit is 3 (raise it with --max-dims)", []),
        limits=Limits(max_dimensions=3),
    )
    case(
        "six-text-columns",
        pa.table({"protein": p, "x": v[:, 0], **{f"t{i}": ["a"] * 12 for i in range(6)}}),
        (
            "non-numeric",
            "feature columns must be numeric; not numeric: 't0 (string)', 't1 (string)', 't2 (string)', "
            "'t3 (string)', ... (2 more)",
            [],
        ),
    )
    case(
        "null-feature",
        pa.table({"protein": p, "x": v[:, 0], "y": pa.array([1.0, None, 2.0, 3.0, None, *range(7)], pa.float64())}),
        ("nan-or-inf", "feature column 'y' has missing (null or NaN) values", [f"1 ({p[1]!r})", f"4 ({p[4]!r})"]),
    )
    fixed = pa.list_(pa.float64(), 3)
    case(
        "fixed-null-embeddings",
        _list_table(p, [None if i in (2, 5) else r for i, r in enumerate(rows)], fixed),
        ("ragged-embedding", "missing (null) embeddings", [f"2 ({p[2]!r})", f"5 ({p[5]!r})"]),
    )
    case(
        "fixed-too-wide",
        _list_table(p, rows, fixed),
        ("too-large", "3 dimensions; the limit is 2", []),
        limits=Limits(max_dimensions=2),
    )
    case(
        "fixed-null-values",
        _list_table(p, [[r[0], None, r[2]] if i in (3, 7) else r for i, r in enumerate(rows)], fixed),
        ("nan-or-inf", "vectors contain NaN or infinity", [f"3 ({p[3]!r})", f"7 ({p[7]!r})"]),
    )
    case(
        "list-null-embeddings",
        _list_table(p, [None if i in (0, 9) else r for i, r in enumerate(rows)]),
        ("ragged-embedding", "missing (null) embeddings", [f"0 ({p[0]!r})", f"9 ({p[9]!r})"]),
    )
    case(
        "ragged",
        _list_table(p, [r[:2] if i in (4, 6) else r + [1.0] if i == 8 else r for i, r in enumerate(rows)]),
        (
            "ragged-embedding",
            "embeddings differ in length (most have 3)",
            [f"4 ({p[4]!r}: 2)", f"6 ({p[6]!r}: 2)", f"8 ({p[8]!r}: 4)"],
        ),
    )
    case(
        "empty-lists",
        _list_table(p, [[] for _ in p], pa.list_(pa.float64())),
        ("no-feature-columns", "embeddings are empty lists", []),
    )
    case(
        "list-too-wide",
        _list_table(p, rows),
        ("too-large", "3 dimensions; the limit is 2", []),
        limits=Limits(max_dimensions=2),
    )
    holes = [list(r) for r in rows]
    holes[1][0] = None  # the first value of a row
    holes[4][1] = holes[4][2] = None  # two in one row: named once
    holes[11][2] = None  # the last value of the table
    case(
        "list-null-values",
        _list_table(p, holes),
        ("nan-or-inf", "null values inside embeddings", [f"1 ({p[1]!r})", f"4 ({p[4]!r})", f"11 ({p[11]!r})"]),
    )
    return cases


def test_each_malformed_table_has_its_exact_error(tmp_path, standards, orfs):
    cases = malformed(tmp_path, orfs)
    assert len({name for name, *_ in cases}) == len(cases)
    for name, path, kwargs, expected in cases:
        assert _error(read_table, path, standards, **kwargs) == (*expected, str(path)), name


def test_unreadable_files_name_the_pyarrow_error(tmp_path, standards, orfs):
    p, v = _good(orfs, n=12, d=3)
    good = write_table(tmp_path / "good.parquet", p, v)
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(Exception) as raised:
        pq.ParquetFile(truncated)
    reason = f"{type(raised.value).__name__}: {_short_reference(raised.value)}"
    assert reason.startswith("ArrowInvalid: ") and "None" not in reason
    assert _error(read_table, truncated, standards) == (
        "not-parquet",
        f"not a readable Parquet file ({reason})",
        [],
        str(truncated),
    )
    # a readable footer, but the pages of a column read_table needs are damaged
    damaged = _corrupt_column(
        _write(tmp_path / "pages.parquet", pa.table({"protein": p, "x": v[:, 0], "y": v[:, 1]})), "y"
    )
    with pytest.raises(Exception) as raised:
        pq.ParquetFile(damaged).read(columns=["protein", "x", "y"])
    reason = f"{type(raised.value).__name__}: {_short_reference(raised.value)}"
    assert reason.startswith("OSError: ") and "None" not in reason
    assert _error(read_table, damaged, standards) == (
        "not-parquet",
        f"cannot read the data pages ({reason})",
        [],
        str(damaged),
    )
    # a damaged column that read_table does not read (a pandas index) does not matter
    index = pa.table({"protein": p, "x": v[:, 0], "y": v[:, 1], "__index_level_0__": list(range(12))})
    spared = _corrupt_column(_write(tmp_path / "index.parquet", index), "__index_level_0__")
    assert read_table(spared, standards).proteins == p


def test_not_json_metadata_names_the_json_error(tmp_path, standards, orfs):
    p, v = _good(orfs, n=12, d=3)
    path = _write(tmp_path / "meta.parquet", pa.table({"protein": p, "x": v[:, 0]}), b"{not json")
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads("{not json")
    message = f"Parquet metadata 'repbench' is not valid JSON ({_short_reference(raised.value)})"
    assert _error(read_table, path, standards) == ("bad-metadata", message, [], str(path))


def test_a_footer_too_large_for_thrift_is_too_large(tmp_path, standards, orfs, monkeypatch):
    """The real error pyarrow raises for a footer over its Thrift limits (a million columns), on a small file:
    the limit lowered so that 20 columns exceed it."""
    import functools

    path = _write(
        tmp_path / "wide.parquet", pa.table({"protein": orfs[:12], **{f"x{i}": [1.0] * 12 for i in range(20)}})
    )
    monkeypatch.setattr(pq, "ParquetFile", functools.partial(pq.ParquetFile, thrift_container_size_limit=5))
    assert _error(read_table, path, standards) == (
        "too-large",
        "the file's metadata is too large to read (far too many columns?)",
        [],
        str(path),
    )


def test_an_unknown_duplicates_mode_is_a_usage_error(tmp_path, standards):
    from repbench.errors import UsageError

    with pytest.raises(UsageError) as err:
        read_table(tmp_path / "never-opened.parquet", standards, duplicates="last")
    assert (err.value.code, err.value.message, err.value.exit_code) == (
        "bad-duplicates",
        "duplicates='last': expected one of error, first, mean",
        2,
    )


def test_limits_are_inclusive(tmp_path, standards, orfs):
    """A table exactly at a limit is read: max proteins, max dimensions (columns, lists, fixed-size lists), and the
    minimum number of proteins."""
    p, v = _good(orfs, n=12, d=3)
    rows = [list(r) for r in v]
    tables = {
        "columns": pa.table({"protein": p, "x": v[:, 0], "y": v[:, 1], "z": v[:, 2]}),
        "list": _list_table(p, rows),
        "fixed": _list_table(p, rows, pa.list_(pa.float64(), 3)),
    }
    for name, table in tables.items():
        path = _write(tmp_path / f"{name}.parquet", table)
        read = read_table(path, standards, Limits(max_proteins=12, max_dimensions=3, min_proteins=12))
        assert read.proteins == p and np.array_equal(read.vectors, v), name
    assert _error(read_table, path, standards, Limits(min_proteins=13)) == (
        "too-few-proteins",
        "only 12 proteins are left after mapping ids to yeast-v1 proteins (at least 13 needed)",
        [],
        str(path),
    )


def test_list_embeddings_of_any_numeric_type_become_float64(tmp_path, standards, orfs):
    p = orfs[:12]
    bits = [[i % 2 == 0, i % 3 == 0, True, False] for i in range(12)]
    expected_bits = np.array(bits, dtype=np.float64)
    integers = [[i, -i, 2 * i + 1] for i in range(12)]
    cases = {
        "list-float": (pa.list_(pa.float64()), [[0.5 * i, 1.0 / (i + 1), -3.0] for i in range(12)]),
        "large-list-float32": (pa.large_list(pa.float32()), [[0.1 * i, 2.0, -1.5] for i in range(12)]),
        "list-int": (pa.list_(pa.int64()), integers),
        "list-bool": (pa.list_(pa.bool_()), bits),
        "fixed-bool": (pa.list_(pa.bool_(), 4), bits),
        "fixed-int16": (pa.list_(pa.int16(), 3), integers),
    }
    for name, (kind, rows) in cases.items():
        table = read_table(_write(tmp_path / f"{name}.parquet", _list_table(p, rows, kind)), standards)
        value_type = kind.value_type.to_pandas_dtype()
        expected = expected_bits if value_type is np.bool_ else np.array(rows, dtype=value_type).astype(np.float64)
        assert table.vectors.dtype == np.float64 and table.vectors.shape == expected.shape, name
        assert np.array_equal(table.vectors, expected), name


def test_the_table_records_its_file_and_row_count(tmp_path, standards, orfs):
    p, v = _good(orfs, n=13, d=4)
    path = write_table(tmp_path / "t.parquet", [*p[:12], "NOTAGENE"], v)
    table = read_table(path, standards)
    assert table.path == path and table.rows == 13 and table.proteins == p[:12] and table.unknown == ["NOTAGENE"]
    assert np.array_equal(table.vectors, v[:12].astype(np.float32))


def test_dictionary_encoded_ids_are_read(tmp_path, standards, orfs):
    """A pandas categorical id column is stored dictionary-encoded."""
    v = np.random.default_rng(3).standard_normal((12, 3))
    encoded = pa.array(orfs[:12]).dictionary_encode()
    table = read_table(
        _write(tmp_path / "cat.parquet", pa.table({"protein": encoded, "x": v[:, 0], "y": v[:, 1]})), standards
    )
    assert table.proteins == orfs[:12] and np.array_equal(table.vectors, v[:, :2])


def test_writing_no_proteins_writes_an_empty_table(tmp_path, standards):
    path = write_table(tmp_path / "none.parquet", [], np.zeros((0, 3)))
    assert pq.read_schema(path).field("protein").type == pa.string()
    assert _error(read_table, path, standards) == ("empty", "the table has no rows", [], str(path))


# ---- check_vectors: the rows, the merging of duplicates, and the wrong-standards rule ---------------------------


def test_check_vectors_names_the_bad_rows(standards, orfs):
    from repbench.table import check_vectors

    p, v = _good(orfs, n=12, d=3)
    nan = v.copy()
    nan[1, 0], nan[6, 2] = np.nan, -np.inf
    assert _error(check_vectors, p, nan, standards, path="t.parquet") == (
        "nan-or-inf",
        "vectors contain NaN or infinity",
        [f"1 ({p[1]!r})", f"6 ({p[6]!r})"],
        "t.parquet",
    )
    const = v.copy()
    const[3] = 0.0
    const[10] = -4.0
    assert _error(check_vectors, p, const, standards, path="t.parquet") == (
        "constant-vector",
        "constant vectors have no correlation with anything; remove or fix them",
        [f"3 ({p[3]!r})", f"10 ({p[10]!r})"],
        "t.parquet",
    )
    few = [*p[:9], *[f"N{i}" for i in range(7)]]
    assert _error(check_vectors, few, np.vstack([v, v[:4]]), standards) == (
        "too-few-proteins",
        "only 9 proteins are left after mapping ids to yeast-v1 proteins (at least 10 needed)",
        ["'N0'", "'N1'", "'N2'", "'N3'", "'N4'"],
        None,
    )
    ten = check_vectors(p[:10], v[:10], standards)  # the default limits: ten proteins are enough
    assert ten["proteins"] == p[:10] and np.array_equal(ten["vectors"], v[:10])


def test_duplicates_error_first_and_mean(standards, orfs):
    """Rows 12 ('tfc3') and 13 ('yal001c') name YAL001C, row 0's protein: refused by default, else merged."""
    from repbench.table import check_vectors

    assert orfs[0] == "YAL001C"
    p = [*orfs[:12], "tfc3", "yal001c"]
    v = np.random.default_rng(5).standard_normal((14, 3))
    v[0], v[12], v[13] = [1.0, 0.0, 4.0], [3.0, 2.0, 0.0], [2.0, 7.0, 5.0]
    assert _error(check_vectors, p, v, standards, path="dup.parquet") == (
        "duplicate-protein",
        "2 row(s) name a protein already in the table (--duplicates first|mean merges them)",
        ["12 ('tfc3' -> YAL001C, same as row 0 ('YAL001C'))", "13 ('yal001c' -> YAL001C, same as row 0 ('YAL001C'))"],
        "dup.parquet",
    )
    merged = ["'YAL001C' + 'tfc3' + 'yal001c' -> YAL001C"]
    first = check_vectors(p, v, standards, duplicates="first")
    assert first["proteins"] == orfs[:12] and first["merged"] == merged
    assert np.array_equal(first["vectors"], v[:12])  # the first row as it was
    mean = check_vectors(p, v, standards, duplicates="mean")
    assert mean["proteins"] == orfs[:12] and mean["merged"] == merged
    assert np.array_equal(mean["vectors"][0], [2.0, 3.0, 3.0])  # (1+3+2)/3, (0+2+7)/3, (4+0+5)/3
    assert np.array_equal(mean["vectors"][1:], v[1:12])
    assert np.array_equal(v[0], [1.0, 0.0, 4.0])  # the caller's array is left alone
    assert check_vectors(p[:12], v[:12], standards, duplicates="mean")["merged"] == []


@pytest.fixture(scope="module")
def human():
    from repbench import standards as standards_mod

    return standards_mod.load("human-v1")


#: yeast gene names that are human gene symbols too: they resolve in both shipped sets
SHARED = ["CDC42", "RAD51", "PCNA", "RAD50"]


def _mix(orfs, human, yeast: int, genes: int, unknown: int = 0, shared: int = 0):
    ids = [
        *SHARED[:shared],
        *orfs[:yeast],
        *human.reference_proteome[:genes],
        *[f"NOTAGENE{i}" for i in range(unknown)],
    ]
    return ids, np.random.default_rng(len(ids)).standard_normal((len(ids), 4))


def test_wrong_standards_when_most_ids_are_another_sets(standards, human, orfs):
    """Refused when the other set resolves more than twice as many ids and at least half of them."""
    from repbench.table import check_vectors

    def refused(there, n, resolved, version, here):
        return (
            "wrong-standards",
            f"{there} of {n} protein ids are {version} ids but only {resolved} are {here} ids: evaluate it with "
            f'--standards {version} (or name it in the table\'s metadata as "standards": "{version}")',
            [],
            "t.parquet",
        )

    assert human.idmap.resolve(SHARED).orfs == ["998", "5888", "5111", "10111"]
    assert None not in standards.idmap.resolve(SHARED).orfs
    ids, v = _mix(orfs, human, yeast=0, genes=12)
    assert _error(check_vectors, ids, v, standards, path="t.parquet") == refused(12, 12, 0, "human-v1", "yeast-v1")
    ids, v = _mix(orfs, human, yeast=12, genes=0)
    assert _error(check_vectors, ids, v, human, path="t.parquet") == refused(12, 12, 0, "yeast-v1", "human-v1")
    # 11 yeast (4 of them shared) and 23 human of 30: refused, although 3 * 11 >= 30
    ids, v = _mix(orfs, human, yeast=7, genes=19, shared=4)
    assert _error(check_vectors, ids, v, standards, path="t.parquet") == refused(23, 30, 11, "human-v1", "yeast-v1")
    unofficial = dataclasses.replace(standards, version="yeast-v1+unofficial")
    assert _error(check_vectors, ids, v, unofficial, path="t.parquet") == refused(23, 30, 11, "human-v1", "yeast-v1")
    # 7 yeast and 15 human of 30: exactly half are human ids, more than twice the yeast ones
    ids, v = _mix(orfs, human, yeast=7, genes=15, unknown=8)
    assert _error(check_vectors, ids, v, standards, path="t.parquet") == refused(15, 30, 7, "human-v1", "yeast-v1")


def test_no_wrong_standards_below_either_edge(standards, human, orfs):
    from repbench.table import check_vectors

    # 10 yeast and 20 human of 30: exactly twice, not more -> read, the human ids dropped as unknown
    ids, v = _mix(orfs, human, yeast=10, genes=20)
    read = check_vectors(ids, v, standards)
    assert read["proteins"] == orfs[:10] and read["unknown"] == ids[10:]
    # 6 yeast and 14 human of 30: more than twice, but fewer than half -> too few proteins, not wrong-standards
    ids, v = _mix(orfs, human, yeast=6, genes=14, unknown=10)
    assert _error(check_vectors, ids, v, standards)[:2] == (
        "too-few-proteins",
        "only 6 proteins are left after mapping ids to yeast-v1 proteins (at least 10 needed)",
    )


def test_standards_for_the_one_asked_for_else_the_metadata_else_yeast(tmp_path, standards, human, orfs):
    from repbench.table import standards_for

    p, v = _good(orfs, n=12, d=3)
    named = write_table(tmp_path / "named.parquet", p, v, {"standards": "human-v1"})
    plain = write_table(tmp_path / "plain.parquet", p, v, {"embedder": "x"})
    assert standards_for(named).version == "human-v1"
    assert standards_for(str(named), "yeast-v1").version == "yeast-v1"
    assert standards_for(plain, "human-v1").version == "human-v1"
    assert standards_for(plain).version == "yeast-v1"
    assert standards_for(tmp_path / "not-read.parquet", human) is human
    bad = write_table(tmp_path / "bad.parquet", p, v, {"standards": ["human-v1"]})
    assert _error(standards_for, bad) == (
        "bad-metadata",
        "Parquet metadata 'repbench': 'standards' must be a string",
        [],
        str(bad),
    )


# ---- nearly_identical: the collapsed-embedding warning ---------------------------------------------------------


def test_nearly_identical_up_to_offset_and_scale():
    from repbench.table import nearly_identical

    base = np.array([0.1, 0.4, 0.2, 0.35, 0.05])  # small values: a scale below 1
    assert nearly_identical(np.vstack([base, 3 * base + 7]))  # two rows: the same after standardising
    assert nearly_identical(np.vstack([base, 0.5 * base - 2, 40 * base, base + 1e-9 * np.arange(5)]))
    assert not nearly_identical(base[None, :])  # one protein: nothing to compare
    assert not nearly_identical(np.vstack([base, -base]))  # anti-correlated: not the same
    assert not nearly_identical(np.vstack([base, base[::-1], 3 * base]))
    assert nearly_identical(np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [5.0, 5.0, 5.0]]))  # all constant: all zero


def test_nearly_identical_threshold_in_standardised_units():
    """Two rows whose standardised coordinates differ by about 0.8e-3 sd (identical) or 1.2e-3 sd (not)."""
    from repbench.table import IDENTICAL_SD, nearly_identical

    def rows(t):
        z = np.array([1.0, -1.0, 1.0, -1.0])  # mean 0, rms 1: already standardised
        return np.vstack([z, z + np.array([t, 0.0, 0.0, -t])])  # rms 1 + t/2: the std across the rows is about t/4

    assert IDENTICAL_SD == 1e-3
    assert nearly_identical(rows(3.2e-3)) and nearly_identical(5 * rows(3.2e-3) + 2)
    assert not nearly_identical(rows(4.8e-3)) and not nearly_identical(5 * rows(4.8e-3) + 2)


def test_the_collapsed_embedding_warning(tmp_path, orfs):
    from repbench.table import ProteinTable

    base = np.array([0.1, 0.4, 0.2, 0.35])
    collapsed = ProteinTable(tmp_path, "0" * 64, 3, orfs[:3], np.vstack([base, 2 * base, base + 1]), {})
    assert collapsed.warnings == [
        "the vectors of all proteins are (nearly) the same: their correlations carry no information and the "
        "scores will be at chance level (a collapsed embedding?)"
    ]
    fine = ProteinTable(tmp_path, "0" * 64, 3, orfs[:3], np.vstack([base, base[::-1], base**2]), {})
    assert fine.warnings == []


def test_exactly_the_threshold_is_not_nearly_identical():
    """ "Less than 1e-3 sd": at exactly 1e-3 the rows are not the same. Integers, so every sum is exact in any order:
    row a has mean 0 and sum of squares 1,500,000 over 6 values (rms exactly 500), so its first value standardises
    to 1/500; row b's is its mean (0). Across the two rows that coordinate's sd is 1/1000; the others' about 1e-6."""
    from repbench.table import nearly_identical

    a = np.array([1.0, -1.0, 2.0, -863.0, 869.0, -8.0])
    b = np.array([0.0, 0.0, 2.0, -863.0, 869.0, -8.0])
    assert a.sum() == b.sum() == 0 and (a**2).sum() == 6 * 500**2
    assert not nearly_identical(np.vstack([a, b])) and not nearly_identical(np.vstack([5 * a + 2, b]))
    assert nearly_identical(np.vstack([a, 0.5 * a + b / 2]))  # half as far apart: 0.5e-3 sd
