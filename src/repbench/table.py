"""The protein embedding table: a Parquet file with one row per protein.

Accepted layouts (docs/table-format.md):

- a string column ``protein`` and one list / fixed-size-list column ``embedding`` of numbers, or
- a string column ``protein`` and one or more numeric feature columns (``DataFrame.to_parquet`` of a frame
  indexed by ``protein`` stores the index as that column).

Optional key-value metadata ``repbench`` (a JSON object: embedder, version, dataset, params, standards) is carried
into the result; its ``standards`` names the standard set the table is meant for (``standards_for``). ``read_table``
checks everything in docs/table-format.md and maps names to the set's canonical ids (yeast: systematic ORFs; human:
NCBI Gene ids); unknown and ambiguous names are dropped with a warning, and a table whose ids belong to another
shipped set is refused with ``wrong-standards``, naming that set. Nothing here writes anything except
``write_table``, which writes atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import standards as standards_mod
from .errors import RepbenchError, UsageError
from .files import file_sha256, write_atomic
from .standards import Standards

METADATA_KEY = b"repbench"
MAX_PROTEINS = 50_000
MAX_DIMENSIONS = 16_384
MIN_PROTEINS = 10
PANDAS_INDEX_COLUMNS = ("__index_level_0__",)


@dataclass
class Limits:
    max_proteins: int = MAX_PROTEINS
    max_dimensions: int = MAX_DIMENSIONS
    min_proteins: int = MIN_PROTEINS


@dataclass
class ProteinTable:
    """A validated table. ``vectors[i]`` (float64) belongs to ``proteins[i]`` (a canonical id of the standards)."""

    path: Path
    sha256: str
    rows: int
    proteins: list[str]
    vectors: np.ndarray
    metadata: dict
    unknown: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # rows of one ORF merged by duplicates=first|mean

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.unknown:
            out.append(f"{len(self.unknown)} unknown protein id(s) dropped: {_preview(self.unknown)}")
        if self.ambiguous:
            out.append(f"{len(self.ambiguous)} ambiguous protein id(s) dropped: {_preview(self.ambiguous)}")
        if self.merged:
            out.append(f"{len(self.merged)} protein(s) named by several rows, merged: {_preview(self.merged)}")
        if nearly_identical(self.vectors):
            out.append(
                "the vectors of all proteins are (nearly) the same: their correlations carry no "
                "information and the scores will be at chance level (a collapsed embedding?)"
            )
        return out


#: rows whose per-row standardised values differ across proteins by less than this (sd) count as identical
IDENTICAL_SD = 1e-3


def nearly_identical(vectors: np.ndarray) -> bool:
    """True when every protein's vector (n, d) is (nearly) the same up to offset and scale: after each row
    is standardised (what a correlation sees), no dimension varies across proteins by more than 1e-3 sd."""
    if len(vectors) < 2:
        return False
    centred = vectors - vectors.mean(axis=1, keepdims=True)
    scale = np.sqrt((centred**2).mean(axis=1, keepdims=True))
    z = centred / np.where(scale > 0, scale, 1.0)
    return bool(z.std(axis=0).max() < IDENTICAL_SD)


def _preview(items: list[str], k: int = 8) -> str:
    shown = ", ".join(repr(x) for x in items[:k])
    return shown + (f", ... ({len(items) - k} more)" if len(items) > k else "")


def _open(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise RepbenchError("not-parquet", "file not found", path=path)
    if not path.is_file():
        raise RepbenchError("not-parquet", "not a regular file", path=path)
    try:
        return pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for truncated / corrupt files
        if "size limit" in str(error):  # a footer too big for Thrift: e.g. a million columns
            raise RepbenchError(
                "too-large", "the file's metadata is too large to read (far too many columns?)", path=path
            )
        raise RepbenchError(
            "not-parquet", f"not a readable Parquet file ({type(error).__name__}: {_short(error)})", path=path
        )


def _short(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:160] + ("..." if len(text) > 160 else "")


def _metadata(parquet: pq.ParquetFile, path: Path) -> dict:
    raw = (parquet.schema_arrow.metadata or {}).get(METADATA_KEY)
    if raw is None:
        return {}
    try:
        meta = json.loads(raw.decode())  # UTF-8
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RepbenchError(
            "bad-metadata", f"Parquet metadata 'repbench' is not valid JSON ({_short(error)})", path=path
        )
    if not isinstance(meta, dict):
        raise RepbenchError("bad-metadata", "Parquet metadata 'repbench' must be a JSON object", path=path)
    return meta


def standards_for(path: str | Path, requested: str | Standards | None = None) -> Standards:
    """The standard set to read a table with: the one asked for, else the one its metadata names, else yeast-v1."""
    if isinstance(requested, Standards):
        return requested
    if requested is None:
        named = _metadata(_open(Path(path)), Path(path)).get("standards")
        if named is not None and not isinstance(named, str):
            raise RepbenchError("bad-metadata", "Parquet metadata 'repbench': 'standards' must be a string", path=path)
        requested = named
    return standards_mod.load(requested)


def _check_standard_set(ids: list[str], resolved: int, standards: Standards, path: Path) -> None:
    """Refuse a table whose ids are mostly another shipped set's (a human table against yeast-v1, or the reverse)."""
    if 2 * resolved >= len(ids):
        return
    here = standards.version.removesuffix("+unofficial")
    for version in standards_mod.shipped_versions():
        if version == here:
            continue
        there = sum(o is not None for o in standards_mod.load(version).idmap.resolve(ids).orfs)
        if there > 2 * resolved and 2 * there >= len(ids):
            raise RepbenchError(
                "wrong-standards",
                f"{there} of {len(ids)} protein ids are {version} ids but only {resolved} are {here} ids: evaluate it "
                f'with --standards {version} (or name it in the table\'s metadata as "standards": "{version}")',
                path=path,
            )


def _is_number(kind: pa.DataType) -> bool:
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
    )


def _feature_columns(schema: pa.Schema, path: Path, limits: Limits) -> tuple[str, list[str]]:
    """('embedding', [name]) or ('columns', [names]) after checking types."""
    names = [n for n in schema.names if n != "protein" and n not in PANDAS_INDEX_COLUMNS]
    kind = schema.field("embedding").type if "embedding" in names else None
    if kind is not None and (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    ):
        if not _is_number(kind.value_type):
            raise RepbenchError("non-numeric", f"column 'embedding' holds {kind.value_type}, not numbers", path=path)
        if len(names) > 1:
            others = [n for n in names if n != "embedding"]
            raise RepbenchError(
                "mixed-layout",
                f"a list column 'embedding' and other columns ({_preview(others, 4)}); "
                "keep only 'protein' and 'embedding'",
                path=path,
            )
        return "embedding", ["embedding"]
    if not names:
        raise RepbenchError("no-feature-columns", "no feature columns besides 'protein'", path=path)
    if len(names) > limits.max_dimensions:
        raise RepbenchError(
            "too-large",
            f"{len(names)} feature columns; the limit is {limits.max_dimensions} (raise it with --max-dims)",
            path=path,
        )
    bad = [f"{n} ({schema.field(n).type})" for n in names if not _is_number(schema.field(n).type)]
    if bad:
        raise RepbenchError(
            "non-numeric", f"feature columns must be numeric; not numeric: {_preview(bad, 4)}", path=path
        )
    return "columns", names


def _embedding_matrix(column: pa.ChunkedArray, path: Path, limits: Limits, ids: list[str]) -> np.ndarray:
    array = column.combine_chunks()
    if pa.types.is_fixed_size_list(array.type):
        width = array.type.list_size
        if array.null_count:
            rows = np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False))
            raise RepbenchError("ragged-embedding", "missing (null) embeddings", rows=_rows(rows, ids), path=path)
        if width > limits.max_dimensions:
            raise RepbenchError("too-large", f"{width} dimensions; the limit is {limits.max_dimensions}", path=path)
        return array.flatten().to_numpy(zero_copy_only=False).astype(np.float64, copy=False).reshape(len(array), width)
    lengths = array.value_lengths().to_numpy(zero_copy_only=False)
    nulls = array.is_null().to_numpy(zero_copy_only=False)
    if nulls.any():
        raise RepbenchError(
            "ragged-embedding", "missing (null) embeddings", rows=_rows(np.flatnonzero(nulls), ids), path=path
        )
    width = int(np.bincount(lengths).argmax())  # lengths is not empty: read_table refuses a table without rows
    odd = np.flatnonzero(lengths != width)
    if odd.size:
        raise RepbenchError(
            "ragged-embedding",
            f"embeddings differ in length (most have {width})",
            rows=[f"{r} ({ids[r]!r}: {lengths[r]})" for r in odd[:5]],
            path=path,
        )
    if width == 0:
        raise RepbenchError("no-feature-columns", "embeddings are empty lists", path=path)
    if width > limits.max_dimensions:
        raise RepbenchError("too-large", f"{width} dimensions; the limit is {limits.max_dimensions}", path=path)
    values = array.flatten()
    if values.null_count:
        offsets = array.offsets.to_numpy()  # integers without nulls: zero-copy
        rows = np.searchsorted(offsets, np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False)), "right") - 1
        raise RepbenchError("nan-or-inf", "null values inside embeddings", rows=_rows(np.unique(rows), ids), path=path)
    return values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False).reshape(len(array), width)


def _rows(indices, ids: list[str]) -> list[str]:
    return [f"{int(i)} ({ids[int(i)]!r})" for i in list(indices)[:5]]


def _column_matrix(table: pa.Table, names: list[str], path: Path, ids: list[str]) -> np.ndarray:
    matrix = np.empty((table.num_rows, len(names)))  # float64
    for j, name in enumerate(names):
        column = table.column(name)
        if column.null_count:  # pandas writes NaN as null: say which rows, as for NaN in a list column
            rows = np.flatnonzero(column.is_null().to_numpy())  # a ChunkedArray: always copied
            raise RepbenchError(
                "nan-or-inf",
                f"feature column {name!r} has missing (null or NaN) values",
                rows=_rows(rows, ids),
                path=path,
            )
        matrix[:, j] = column.to_numpy()  # any numeric type (bool, int, float, decimal) is cast to float64 here
    return matrix


DUPLICATES = ("error", "first", "mean")


def read_table(
    path: str | Path, standards: Standards, limits: Limits | None = None, duplicates: str = "error"
) -> ProteinTable:
    """Read, validate and map a protein table; raise RepbenchError with a stable code on bad input.

    ``duplicates``: what to do with rows whose names map to one ORF (an old gene name and its ORF, e.g.
    ``CIS1`` and ``YLR346C``): ``error`` (refuse the table), ``first`` (keep the first row) or ``mean``
    (average the rows); either way the merged rows are named in a warning."""
    if duplicates not in DUPLICATES:
        raise UsageError("bad-duplicates", f"duplicates={duplicates!r}: expected one of {', '.join(DUPLICATES)}")
    limits = limits or Limits()
    path = Path(path)
    parquet = _open(path)
    schema = parquet.schema_arrow
    metadata = _metadata(parquet, path)
    if "protein" not in schema.names:
        raise RepbenchError(
            "missing-protein-column",
            f"no column 'protein' (columns: {_preview(schema.names, 6)}); "
            "name the id column or the DataFrame index 'protein'",
            path=path,
        )
    kind = schema.field("protein").type
    text = kind.value_type if pa.types.is_dictionary(kind) else kind  # a pandas categorical is dictionary-encoded
    if not (pa.types.is_string(text) or pa.types.is_large_string(text)):
        raise RepbenchError("non-string-protein", f"column 'protein' must hold strings, found {kind}", path=path)
    rows = parquet.metadata.num_rows
    if rows == 0:
        raise RepbenchError("empty", "the table has no rows", path=path)
    if rows > limits.max_proteins:
        raise RepbenchError(
            "too-large",
            f"{rows} rows; the limit is {limits.max_proteins} proteins (raise it with --max-proteins)",
            path=path,
        )
    layout, columns = _feature_columns(schema, path, limits)
    try:
        table = parquet.read(columns=["protein", *columns])
    except Exception as error:
        raise RepbenchError(
            "not-parquet", f"cannot read the data pages ({type(error).__name__}: {_short(error)})", path=path
        )

    ids = table.column("protein").to_pylist()  # str or None
    blank = [i for i, x in enumerate(ids) if x is None or not x.strip()]
    if blank:
        raise RepbenchError(
            "missing-protein-id", "empty or missing protein ids", rows=[str(i) for i in blank], path=path
        )
    if layout == "embedding":
        vectors = _embedding_matrix(table.column("embedding"), path, limits, ids)
    else:
        vectors = _column_matrix(table, columns, path, ids)

    checked = check_vectors(ids, vectors, standards, limits, duplicates, path)
    return ProteinTable(path=path, sha256=file_sha256(path), rows=rows, metadata=metadata, **checked)


def check_vectors(
    ids: list[str],
    vectors: np.ndarray,
    standards: Standards,
    limits: Limits | None = None,
    duplicates: str = "error",
    path: Path | str | None = None,
) -> dict:
    """The checks of a table's rows, on arrays: ids (n,) and vectors (n, d) float64 -> the ``proteins``
    (ORFs), ``vectors``, ``unknown``, ``ambiguous`` and ``merged`` of a :class:`ProteinTable`.

    Finite values, no constant row, names mapped to ORFs (unknown and ambiguous names dropped), one row
    per ORF (``duplicates``), at least ``limits.min_proteins`` left; a RepbenchError otherwise (``path``
    names the file in it). Used by :func:`read_table` and by ``repbench run`` for each epoch's vectors.
    """
    limits = limits or Limits()
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        raise RepbenchError(
            "nan-or-inf", "vectors contain NaN or infinity", rows=_rows(np.flatnonzero(~finite), ids), path=path
        )
    spread = vectors.max(axis=1) - vectors.min(axis=1)
    constant = np.flatnonzero(spread == 0)
    if constant.size:
        raise RepbenchError(
            "constant-vector",
            "constant vectors have no correlation with anything; remove or fix them",
            rows=_rows(constant, ids),
            path=path,
        )

    resolution = standards.idmap.resolve(ids)
    first_row: dict[str, int] = {}
    repeated: dict[str, list[int]] = {}
    for i, orf in enumerate(resolution.orfs):
        if orf is None:
            continue
        if orf in first_row:
            repeated.setdefault(orf, [first_row[orf]]).append(i)
        else:
            first_row[orf] = i
    _check_standard_set(ids, len(first_row), standards, path)
    merged = [f"{' + '.join(repr(ids[i]) for i in rows)} -> {orf}" for orf, rows in repeated.items()]
    if repeated and duplicates == "error":
        described = [
            f"{i} ({ids[i]!r} -> {orf}, same as row {rows[0]} ({ids[rows[0]]!r}))"
            for orf, rows in repeated.items()
            for i in rows[1:]
        ]
        raise RepbenchError(
            "duplicate-protein",
            f"{len(described)} row(s) name a protein already in the table (--duplicates first|mean merges them)",
            rows=described,
            path=path,
        )
    keep = np.fromiter(first_row.values(), dtype=np.int64)
    if repeated and duplicates == "mean":
        vectors = vectors.copy()
        for rows in repeated.values():
            vectors[rows[0]] = vectors[rows].mean(axis=0)
    if keep.size < limits.min_proteins:
        raise RepbenchError(
            "too-few-proteins",
            f"only {keep.size} proteins are left after mapping ids to {standards.version} proteins "
            f"(at least {limits.min_proteins} needed)",
            rows=[repr(x) for x in resolution.unknown[:5]],
            path=path,
        )
    return {
        "proteins": list(first_row),
        "vectors": vectors[keep],
        "unknown": resolution.unknown,
        "ambiguous": resolution.ambiguous,
        "merged": merged,
    }


def write_table(path: str | Path, proteins: list[str], vectors: np.ndarray, metadata: dict | None = None) -> Path:
    """Write ``protein`` + fixed-size-list float32 ``embedding`` with JSON metadata, atomically.

    vectors: (n, d). The file appears complete or not at all (temp file in the same folder + rename).
    """
    path = Path(path)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(proteins):
        raise ValueError(f"vectors must be (len(proteins), d); got {vectors.shape} for {len(proteins)} proteins")
    flat = pa.array(vectors.ravel())  # float32
    embedding = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    table = pa.table({"protein": pa.array([str(p) for p in proteins], type=pa.string()), "embedding": embedding})
    if metadata:
        table = table.replace_schema_metadata(
            {METADATA_KEY: json.dumps(metadata, sort_keys=True, default=str).encode()}
        )
    return write_atomic(path, write=lambda tmp: pq.write_table(table, tmp))
