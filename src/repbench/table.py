"""The protein embedding table: a Parquet file with one row per protein.

Accepted layouts (docs/table-format.md):

- a string column ``protein`` and one list / fixed-size-list column ``embedding`` of numbers, or
- a string column ``protein`` and one or more numeric feature columns (``DataFrame.to_parquet`` of a frame
  indexed by ``protein`` stores the index as that column).

Optional key-value metadata ``repbench`` (a JSON object: embedder, version, dataset, params) is carried into
the result. ``read_table`` checks everything in docs/table-format.md and maps names to systematic ORFs; unknown and
ambiguous names are dropped with a warning. Nothing here writes anything except ``write_table``, which writes
atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import RepbenchError
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
    """A validated table. ``vectors[i]`` (float64) belongs to ``proteins[i]`` (a systematic ORF)."""

    path: Path
    sha256: str
    rows: int
    proteins: list[str]
    vectors: np.ndarray
    metadata: dict
    unknown: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)

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
        return out


def _preview(items: list[str], k: int = 8) -> str:
    shown = ", ".join(repr(x) for x in items[:k])
    return shown + (f", ... ({len(items) - k} more)" if len(items) > k else "")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise RepbenchError("not-parquet", "file not found", path=path)
    if not path.is_file():
        raise RepbenchError("not-parquet", "not a regular file", path=path)
    try:
        return pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for truncated / corrupt files
        if "size limit" in str(error):  # a footer too big for Thrift: e.g. a million columns
            raise RepbenchError("too-large", "the file's metadata is too large to read (far too many columns?)", path=path)
        raise RepbenchError("not-parquet", f"not a readable Parquet file ({type(error).__name__}: {_short(error)})", path=path)


def _short(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:160] + ("..." if len(text) > 160 else "")


def _metadata(parquet: pq.ParquetFile, path: Path) -> dict:
    raw = (parquet.schema_arrow.metadata or {}).get(METADATA_KEY)
    if raw is None:
        return {}
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RepbenchError("bad-metadata", f"Parquet metadata 'repbench' is not valid JSON ({_short(error)})", path=path)
    if not isinstance(meta, dict):
        raise RepbenchError("bad-metadata", "Parquet metadata 'repbench' must be a JSON object", path=path)
    return meta


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind)


def _feature_columns(schema: pa.Schema, path: Path, limits: Limits) -> tuple[str, list[str]]:
    """('embedding', [name]) or ('columns', [names]) after checking types."""
    names = [n for n in schema.names if n != "protein" and n not in PANDAS_INDEX_COLUMNS]
    kind = schema.field("embedding").type if "embedding" in names else None
    if kind is not None and (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)):
        if not _is_number(kind.value_type):
            raise RepbenchError("non-numeric", f"column 'embedding' holds {kind.value_type}, not numbers", path=path)
        if len(names) > 1:
            others = [n for n in names if n != "embedding"]
            raise RepbenchError(
                "mixed-layout", f"a list column 'embedding' and other columns ({_preview(others, 4)}); keep only 'protein' and 'embedding'",
                path=path,
            )
        return "embedding", ["embedding"]
    if not names:
        raise RepbenchError("no-feature-columns", "no feature columns besides 'protein'", path=path)
    if len(names) > limits.max_dimensions:
        raise RepbenchError(
            "too-large", f"{len(names)} feature columns; the limit is {limits.max_dimensions} (raise it with --max-dims)", path=path
        )
    bad = [f"{n} ({schema.field(n).type})" for n in names if not _is_number(schema.field(n).type)]
    if bad:
        raise RepbenchError("non-numeric", f"feature columns must be numeric; not numeric: {_preview(bad, 4)}", path=path)
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
        raise RepbenchError("ragged-embedding", "missing (null) embeddings", rows=_rows(np.flatnonzero(nulls), ids), path=path)
    width = int(np.bincount(lengths).argmax()) if lengths.size else 0
    odd = np.flatnonzero(lengths != width)
    if odd.size:
        raise RepbenchError(
            "ragged-embedding", f"embeddings differ in length (most have {width})",
            rows=[f"{r} ({ids[r]!r}: {lengths[r]})" for r in odd[:5]], path=path,
        )
    if width == 0:
        raise RepbenchError("no-feature-columns", "embeddings are empty lists", path=path)
    if width > limits.max_dimensions:
        raise RepbenchError("too-large", f"{width} dimensions; the limit is {limits.max_dimensions}", path=path)
    values = array.flatten()
    if values.null_count:
        raise RepbenchError("nan-or-inf", "null values inside embeddings", path=path)
    return values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False).reshape(len(array), width)


def _rows(indices, ids: list[str]) -> list[str]:
    return [f"{int(i)} ({ids[int(i)]!r})" for i in list(indices)[:5]]


def _column_matrix(table: pa.Table, names: list[str], path: Path) -> np.ndarray:
    matrix = np.empty((table.num_rows, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        column = table.column(name)
        if column.null_count:
            raise RepbenchError("nan-or-inf", f"feature column {name!r} has missing (null) values", path=path)
        matrix[:, j] = column.to_numpy().astype(np.float64, copy=False)
    return matrix


def read_table(path: str | Path, standards: Standards, limits: Limits | None = None) -> ProteinTable:
    """Read, validate and map a protein table; raise RepbenchError with a stable code on bad input."""
    limits = limits or Limits()
    path = Path(path)
    parquet = _open(path)
    schema = parquet.schema_arrow
    metadata = _metadata(parquet, path)
    if "protein" not in schema.names:
        raise RepbenchError(
            "missing-protein-column",
            f"no column 'protein' (columns: {_preview(schema.names, 6)}); name the id column or the DataFrame index 'protein'",
            path=path,
        )
    kind = schema.field("protein").type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)):
        raise RepbenchError("non-string-protein", f"column 'protein' must hold strings, found {kind}", path=path)
    rows = parquet.metadata.num_rows
    if rows == 0:
        raise RepbenchError("empty", "the table has no rows", path=path)
    if rows > limits.max_proteins:
        raise RepbenchError("too-large", f"{rows} rows; the limit is {limits.max_proteins} proteins (raise it with --max-proteins)", path=path)
    layout, columns = _feature_columns(schema, path, limits)
    try:
        table = parquet.read(columns=["protein", *columns])
    except Exception as error:
        raise RepbenchError("not-parquet", f"cannot read the data pages ({type(error).__name__}: {_short(error)})", path=path)

    ids = [x if x is None else str(x) for x in table.column("protein").to_pylist()]
    blank = [i for i, x in enumerate(ids) if x is None or not x.strip()]
    if blank:
        raise RepbenchError("missing-protein-id", "empty or missing protein ids", rows=[str(i) for i in blank], path=path)
    if layout == "embedding":
        vectors = _embedding_matrix(table.column("embedding"), path, limits, ids)
    else:
        vectors = _column_matrix(table, columns, path)

    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        raise RepbenchError("nan-or-inf", "vectors contain NaN or infinity", rows=_rows(np.flatnonzero(~finite), ids), path=path)
    spread = vectors.max(axis=1) - vectors.min(axis=1)
    constant = np.flatnonzero(spread == 0)
    if constant.size:
        raise RepbenchError(
            "constant-vector", "constant vectors have no correlation with anything; remove or fix them",
            rows=_rows(constant, ids), path=path,
        )

    resolution = standards.idmap.resolve(ids)
    first_row: dict[str, int] = {}
    duplicates = []
    for i, orf in enumerate(resolution.orfs):
        if orf is None:
            continue
        if orf in first_row:
            duplicates.append(f"{i} ({ids[i]!r} -> {orf}, same as row {first_row[orf]} ({ids[first_row[orf]]!r}))")
        else:
            first_row[orf] = i
    if duplicates:
        raise RepbenchError("duplicate-protein", f"{len(duplicates)} row(s) name a protein already in the table", rows=duplicates, path=path)
    keep = np.fromiter(first_row.values(), dtype=np.int64)
    if keep.size < limits.min_proteins:
        raise RepbenchError(
            "too-few-proteins",
            f"only {keep.size} proteins are left after mapping ids to yeast ORFs (at least {limits.min_proteins} needed)",
            rows=[repr(x) for x in resolution.unknown[:5]], path=path,
        )
    return ProteinTable(
        path=path,
        sha256=file_sha256(path),
        rows=rows,
        proteins=list(first_row),
        vectors=vectors[keep],
        metadata=metadata,
        unknown=resolution.unknown,
        ambiguous=resolution.ambiguous,
    )


def write_table(path: str | Path, proteins: list[str], vectors: np.ndarray, metadata: dict | None = None) -> Path:
    """Write ``protein`` + fixed-size-list float32 ``embedding`` with JSON metadata, atomically.

    vectors: (n, d). The file appears complete or not at all (temp file in the same folder + rename).
    """
    path = Path(path)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(proteins):
        raise ValueError(f"vectors must be (len(proteins), d); got {vectors.shape} for {len(proteins)} proteins")
    flat = pa.array(vectors.ravel(), type=pa.float32())
    embedding = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    table = pa.table({"protein": pa.array([str(p) for p in proteins], type=pa.string()), "embedding": embedding})
    if metadata:
        table = table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata, sort_keys=True, default=str).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        from .results import current_umask  # noqa: PLC0415 (results imports nothing from here)

        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

