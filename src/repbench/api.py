"""The Python API: what the command line does, as functions a notebook calls (docs/api.md).

``repbench.evaluate(table)`` takes a pandas DataFrame (indexed by protein, or with a ``protein`` column;
an ``embedding`` list column or numeric feature columns), a numpy array with ``ids=``, or a path to a
Parquet table, and returns a :class:`Result`. The table goes through exactly the checks, name mapping,
warnings and error codes of ``repbench evaluate`` (a DataFrame or array is written to a temporary Parquet
file and read back by :func:`repbench.table.read_table`), so the numbers are the CLI's. Errors are
:class:`repbench.errors.RepbenchError` (a ``ValueError``) with a stable ``code``.

The CLI commands are thin layers over these functions.
"""

from __future__ import annotations

import copy
import html
import tempfile
import warnings as warnings_mod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

from .errors import RepbenchError
from .progress import Counter, Progress

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .plugins import EmbedderInfo
    from .run import RunResult
    from .standards import Standards
    from .table import Limits, ProteinTable

#: what ``warn=`` receives: one line per warning
Warn = Callable[[str], None]


class RepbenchWarning(UserWarning):
    """A table was accepted with a caveat (ids dropped, rows merged, a collapsed embedding)."""


def _python_warning(message: str) -> None:
    warnings_mod.warn(message, RepbenchWarning, stacklevel=4)


def standards(version: str | None = None, root: str | Path | None = None) -> "Standards":
    """The frozen standards ``version`` (default ``yeast-v1``), checked against their manifest once per process.
    ``root``: a development override (results are stamped unofficial)."""
    from . import standards as standards_mod

    if root is not None:
        return standards_mod.load(root=root)
    return standards_mod.load() if version is None else standards_mod.load(version)


def _standards(value: "str | Standards | None", table: Any = None) -> "Standards":
    """Loaded standards, a set's name, or None: for an existing file, the set its metadata names, else yeast-v1
    (a missing file is reported when it is read, after the tiers are checked)."""
    from .standards import Standards
    from .table import standards_for

    if isinstance(value, Standards):
        return value
    if value is None and isinstance(table, (str, Path)) and Path(table).is_file():
        return standards_for(table)
    return standards(value)


def embedders() -> dict[str, "EmbedderInfo"]:
    """Every installed embedder by name (plugins are loaded on first use; problems: ``plugins.load_plugins()``)."""
    from . import plugins

    return plugins.embedders()


# ---- reading a table from anything -----------------------------------------------------------------------


def _frame_to_arrow(frame: "pd.DataFrame"):
    """A DataFrame as the Parquet layouts of docs/table-format.md: ``protein`` from the column or the index."""
    import pyarrow as pa

    if "protein" not in frame.columns:
        index_name = frame.index.name
        if index_name not in (None, "protein") or (index_name is None and frame.index.dtype.kind not in "OSU"):
            raise RepbenchError(
                "missing-protein-column",
                f"no column 'protein' and the index ({index_name!r}, "
                f"{frame.index.dtype}) holds no protein names; name the id column or the index "
                "'protein'",
            )
        frame = frame.rename_axis("protein").reset_index()
    frame = frame.rename(columns=str)
    if "embedding" in frame.columns and frame["embedding"].dtype == object:
        rows = [None if v is None else np.asarray(v, dtype=np.float64).ravel() for v in frame["embedding"]]
        embedding = pa.array([None if r is None else r.tolist() for r in rows], type=pa.list_(pa.float64()))
        others = frame.drop(columns=["embedding"])
        table = pa.Table.from_pandas(others, preserve_index=False)
        return table.append_column("embedding", embedding)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _array_to_arrow(vectors: np.ndarray, ids: Sequence[str]):
    import pyarrow as pa

    vectors = np.asarray(vectors)
    if vectors.ndim != 2:
        raise RepbenchError(
            "bad-shape", f"vectors must be a 2-d array (proteins x dimensions), got shape {vectors.shape}"
        )
    if len(ids) != vectors.shape[0]:
        raise RepbenchError("bad-shape", f"{len(ids)} ids for {vectors.shape[0]} rows of vectors")
    if not np.issubdtype(vectors.dtype, np.number) or np.issubdtype(vectors.dtype, np.complexfloating):
        raise RepbenchError("non-numeric", f"vectors hold {vectors.dtype}, not real numbers")
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float64).ravel(), type=pa.float64())
    embedding = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    return pa.table(
        {"protein": pa.array([None if i is None else str(i) for i in ids], type=pa.string()), "embedding": embedding}
    )


def read(
    table: Any,
    standards: "str | Standards | None" = None,
    *,
    ids: Sequence[str] | None = None,
    duplicates: str = "error",
    limits: "Limits | None" = None,
    warn: Warn | None = None,
) -> "ProteinTable":
    """A validated :class:`repbench.table.ProteinTable` from a path, a DataFrame, or an array with ``ids``;
    each of its warnings goes to ``warn`` (default: a Python ``RepbenchWarning``)."""
    checked = _read(table, standards, ids, duplicates, limits)
    for line in checked.warnings:
        (warn or _python_warning)(line)
    return checked


def _read(
    table: Any, standards: "str | Standards | None", ids: Sequence[str] | None, duplicates: str, limits: "Limits | None"
) -> "ProteinTable":
    from . import table as table_mod

    st = _standards(standards, table)
    if isinstance(table, (str, Path)):
        if ids is not None:
            raise RepbenchError("bad-input", "ids= goes with an array of vectors, not with a file")
        return table_mod.read_table(table, st, limits, duplicates=duplicates)
    if isinstance(table, table_mod.ProteinTable):
        return table
    if isinstance(table, np.ndarray):
        if ids is None:
            raise RepbenchError("bad-input", "an array of vectors needs ids=[...] (one protein name per row)")
        arrow, label = _array_to_arrow(table, ids), "<array>"
    elif type(table).__name__ == "DataFrame":
        if ids is not None:
            raise RepbenchError(
                "bad-input",
                "ids= goes with an array of vectors; a DataFrame names its proteins in its index or a 'protein' column",
            )
        arrow, label = _frame_to_arrow(table), "<DataFrame>"
    else:
        raise RepbenchError(
            "bad-input",
            f"cannot evaluate a {type(table).__name__}: give a DataFrame, a numpy "
            "array with ids=, or the path of a Parquet table",
        )
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="repbench-") as folder:
        path = Path(folder) / "table.parquet"
        pq.write_table(arrow, path)
        try:
            read_back = table_mod.read_table(path, st, limits, duplicates=duplicates)
        except RepbenchError as error:  # name what the user gave, not the temporary file
            raise type(error)(error.code, error.message, error.rows, label) from None
    read_back.path = Path(label)
    return read_back


# ---- evaluating ------------------------------------------------------------------------------------------

#: the columns of Result.to_frame(), in order (one row per tier)
FRAME_COLUMNS = (
    "ami",
    "ami_sd",
    "map",
    "map_ci_low",
    "map_ci_high",
    "f05",
    "ap",
    "prevalence",
    "proteins",
    "groups",
    "pairs",
    "positive_pairs",
    "map_queries",
    "skipped",
)


@dataclass
class Result:
    """The evaluation of one table: the JSON record of ``repbench evaluate --json`` with a tabular view."""

    record: dict
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The result record (docs/results.md), a copy."""
        return copy.deepcopy(self.record)

    @property
    def tiers(self) -> list[str]:
        return list(self.record["tiers"])

    def __getitem__(self, tier: str) -> dict:
        """One tier's scores as in the record: ``result["go_cc"]["map"]``."""
        return self.record["tiers"][tier]

    def to_frame(self) -> "pd.DataFrame":
        """One row per tier (index: tier name); columns :data:`FRAME_COLUMNS` and any further per-tier
        number of the record (later evaluator versions add some): the numbers of ``--json``."""
        import pandas as pd

        rows = {}
        for tier, scores in self.record["tiers"].items():
            ci = scores.get("map_ci") or [None, None]
            row = {key: scores.get(key) for key in FRAME_COLUMNS}
            row.update(map_ci_low=ci[0], map_ci_high=ci[1])
            for key, value in scores.items():  # new scalar fields pass through
                if key not in row and key != "map_ci" and isinstance(value, (int, float, str, type(None))):
                    row[key] = value
            rows[tier] = row
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "tier"
        if frame["skipped"].isna().all():
            frame = frame.drop(columns="skipped")
        return frame

    def __repr__(self) -> str:
        inp = self.record["input"]
        scores = ", ".join(
            f"{t} mAP {s['map']:.3f}" if s.get("map") is not None else f"{t} skipped"
            for t, s in self.record["tiers"].items()
        )
        return f"Result({inp['proteins']} proteins x {inp['dimension']} dims: {scores})"

    def _repr_html_(self) -> str:
        inp = self.record["input"]
        caption = (
            f"{inp['proteins']} proteins x {inp['dimension']} dims, coverage {self.record['coverage']:.1%}, "
            f"dataset {self.record['dataset']}, evaluator {self.record['evaluator']['version']}, "
            f"standards {self.record['standards']['version']}"
        )
        notes = "".join(f"<p>warning: {html.escape(w)}</p>" for w in self.warnings)
        table = self.to_frame().to_html(float_format=lambda x: f"{x:.4f}", na_rep="-", escape=True)
        return f"<div><p>{html.escape(caption)}</p>{notes}{table}</div>"


def evaluate(
    table: Any,
    standards: "str | Standards | None" = None,
    *,
    ids: Sequence[str] | None = None,
    tiers: Iterable[str] | None = None,
    duplicates: str = "error",
    limits: "Limits | None" = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> Result:
    """Score a protein table on the frozen tiers; what ``repbench evaluate`` does.

    table: a DataFrame, an array (n, d) with ``ids`` (n,), or a path. standards: a version (default
    ``yeast-v1``) or loaded :class:`Standards`. tiers: a subset (checked before the table is read).
    duplicates: ``error`` | ``first`` | ``mean`` for rows naming one ORF. progress: ``progress(stage, done,
    total)``. warn: called with each warning line (default: a Python ``RepbenchWarning``).
    """
    from . import evaluator

    st = _standards(standards, table)
    chosen = evaluator.check_tiers(tiers, st)  # an unknown tier is a usage error before any reading
    read_table = read(table, st, ids=ids, duplicates=duplicates, limits=limits, warn=warn)
    notes = read_table.warnings
    step = Counter(progress, "evaluating tiers", len(chosen))
    record = evaluator.evaluate_table(read_table, st, tiers=chosen, progress=lambda tier: step())
    return Result(record, notes)


def validate(
    table: Any,
    standards: "str | Standards | None" = None,
    *,
    ids: Sequence[str] | None = None,
    duplicates: str = "error",
    limits: "Limits | None" = None,
    warn: Warn | None = None,
) -> dict:
    """The checks of :func:`evaluate` without scoring: the report ``repbench validate --json`` prints."""
    from .results import ID_PREVIEW

    st = _standards(standards, table)
    checked = read(table, st, ids=ids, duplicates=duplicates, limits=limits, warn=warn)
    return {
        "ok": True,
        "path": str(checked.path),
        "standards": st.version,
        "rows": checked.rows,
        "proteins": len(checked.proteins),
        "dimension": checked.dimension,
        "n_unknown": len(checked.unknown),
        "n_ambiguous": len(checked.ambiguous),
        "unknown_ids": checked.unknown[:ID_PREVIEW],
        "ambiguous_ids": checked.ambiguous[:ID_PREVIEW],
        "merged": checked.merged,
        "metadata": checked.metadata,
        "warnings": checked.warnings,
    }


@dataclass
class Comparison:
    """Table A vs table B (``repbench compare --json`` as ``record``): per tier and metric A - B with its
    interval, p, Holm-adjusted p and verdict; the groups that differ most."""

    record: dict

    def to_dict(self) -> dict:
        return copy.deepcopy(self.record)

    def to_frame(self) -> "pd.DataFrame":
        """One row per (tier, metric): a, b, difference, ci_low, ci_high, p, p_adjusted, verdict."""
        import pandas as pd

        rows = {}
        for tier, scores in self.record["tiers"].items():
            for metric in ("map", "ami", "f05"):
                test = scores.get(metric)
                if not isinstance(test, dict):
                    continue
                ci = test.get("ci") or [None, None]
                rows[(tier, metric)] = {
                    "a": test.get("a"),
                    "b": test.get("b"),
                    "difference": test.get("difference"),
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                    "p": test.get("p"),
                    "p_adjusted": test.get("p_adjusted"),
                    "verdict": test.get("verdict"),
                }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=["tier", "metric"])
        return frame

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda x: f"{x:.4f}", na_rep="-", escape=True)


def compare(
    a: Any,
    b: Any,
    standards: "str | Standards | None" = None,
    *,
    tiers: Iterable[str] | None = None,
    resamples: int = 1000,
    ami_resamples: int | None = None,
    seed: int = 0,
    duplicates: str = "error",
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> Comparison:
    """``repbench compare``: A vs B on the proteins both cover, per tier: A - B of ``map``, ``ami`` and
    ``f05`` with a 95% interval and two-sided p from the paired bootstrap of :mod:`repbench.verdicts`
    (Holm-adjusted over all the tests), a verdict each, and the groups that differ most.
    a, b: anything :func:`evaluate` takes (a DataFrame, a path; an array needs :func:`read` first)."""
    from . import evaluator, verdicts
    from .verdicts.compare import AMI_RESAMPLES

    st = _standards(standards, a)
    chosen = evaluator.check_tiers(tiers, st)
    table_a, table_b = (read(t, st, duplicates=duplicates, warn=warn) for t in (a, b))
    record = verdicts.compare_tables(
        table_a,
        table_b,
        st,
        tiers=chosen,
        resamples=resamples,
        ami_resamples=min(resamples, AMI_RESAMPLES) if ami_resamples is None else ami_resamples,
        seed=seed,
        progress=progress,
    )
    return Comparison(record)


def run(
    embedder: str,
    data: str = "demo",
    *,
    out: str | Path | None = None,
    protocol: str = "quick",
    device: str = "auto",
    seed: int = 0,
    options: dict[str, Any] | None = None,
    labels: str | Path | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> "RunResult":
    """``repbench run``: the embedder on the cells, the protein table and its evaluation in a run folder.
    ``RunResult.scores`` is the :class:`Result`."""
    from .run import run_embedder

    return run_embedder(
        embedder,
        data=data,
        out=None if out is None else Path(out),
        protocol=protocol,
        device=device,
        seed=seed,
        options=options,
        labels=labels,
        progress=progress,
        warn=warn or _python_warning,
    )
