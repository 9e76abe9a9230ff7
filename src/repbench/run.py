"""``repbench run``: cells -> embedder -> protein table -> evaluation -> files in one run folder.

The run folder (default ``runs/<embedder>-<data>-<protocol>-seed<seed>``) holds

- ``run.json``: the configuration;
- ``trajectory.json``: one entry per training epoch, ``{"epoch", "logs", "tiers": {tier: {f05, map, ami, ap}}}``,
  rewritten after every epoch, so a resumed run keeps the epochs it had (a re-reported epoch replaces
  the old entry);
- ``embeddings.parquet``: the protein table (:mod:`repbench.table`), with the run in its metadata;
- ``result.json``: the evaluation record (docs/results.md) with the trajectory.

Embedders keep their own checkpoints in the same folder, which is what makes a rerun resume.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__, plugins
from .embedders import Embedding, EmbedRequest, EpochReport, check_options
from .errors import MissingExtra, RepbenchError, UsageError
from .progress import Counter, Progress
from .results import METRICS

PROTOCOLS = ("quick", "paper")
DEVICES = ("auto", "cpu", "cuda")
TRAJECTORY_METRICS = METRICS  # each epoch's entry holds every per-tier score
#: keys of run.json that must match for a rerun in the same folder to keep the old trajectory
RESUME_KEYS = ("embedder", "data", "labels", "protocol", "seed")


@dataclass
class RunResult:
    out_dir: Path
    embedder: plugins.EmbedderInfo
    table_path: Path
    result: dict  # the evaluation record, with "trajectory"

    @property
    def scores(self):
        """The evaluation as a :class:`repbench.api.Result` (``.to_frame()``, ``.to_dict()``)."""
        from .api import Result

        return Result(self.result)


def default_out_dir(embedder: str, data: str, protocol: str, seed: int) -> Path:
    """``runs/<embedder>-<data name>-<protocol>-seed<seed>``; a data path contributes its folder name."""
    name = data if data.startswith("demo") else Path(data).name or "data"
    return Path("runs") / f"{embedder}-{re.sub(r'[^A-Za-z0-9.]+', '-', name).strip('-')}-{protocol}-seed{seed}"


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``["lr=0.01", "epochs=3"]`` -> {"lr": "0.01", "epochs": "3"}."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError("bad-option", f"bad --option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value
    return options


def find_embedder(name: str) -> plugins.EmbedderInfo:
    known = plugins.embedders()
    if name not in known:
        for warning in plugins.load_plugins():  # its plugin is installed but did not load (a missing extra?)
            if name == warning.plugin or name.startswith(f"{warning.plugin}-"):
                raise RepbenchError("plugin-failed", warning.render())
        listed = ", ".join(sorted(known)) or "none (install a plugin package, see docs/plugins.md)"
        raise UsageError("unknown-embedder", f"unknown embedder {name!r}; installed embedders: {listed}")
    return known[name]


def run_embedder(
    name: str,
    data: str = "demo",
    out: Path | None = None,
    protocol: str = "quick",
    device: str = "auto",
    seed: int = 0,
    options: dict[str, str] | None = None,
    labels: str | Path | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> RunResult:
    """Run embedder ``name`` on ``data`` and write run.json, trajectory.json, embeddings.parquet and result.json.

    Checked before any work: the embedder, protocol, device and ``options`` (against the embedder's declared
    options: a usage error naming the key), and, for embedders that read cells, that the data holds enough
    proteins the standards know to be evaluated at all (``too-few-proteins``)."""
    info = find_embedder(name)
    typed_options = check_options(info.embedder, dict(options or {}))
    if protocol not in PROTOCOLS:
        raise UsageError("bad-protocol", f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    if device not in DEVICES:
        raise UsageError("bad-device", f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
    out = Path(out) if out is not None else default_out_dir(name, data, protocol, seed)
    config = {
        "embedder": name,
        "embedder_version": info.version,
        "package": info.package,
        "package_version": info.package_version,
        "data": data,
        "labels": None if labels is None else str(labels),
        "protocol": protocol,
        "device": device,
        "seed": seed,
        "options": dict(options or {}),
        "repbench": __version__,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    from . import evaluator, results, standards as standards_mod, table  # the heavy half, loaded when used

    standards = standards_mod.load()
    cells = None
    if info.embedder.requires_cells:
        from .data import open_cells

        cells = open_cells(data, labels=labels, seed=seed, progress=progress)  # "demo:proteins=N,cells=M" too
        check_evaluable(cells, standards)

    request = EmbedRequest(cells=cells, out_dir=out, protocol=protocol, device=device, seed=seed, options=typed_options)
    if not is_main_process():  # another torchrun process: trains its share, writes and prints nothing
        _embed(info, request)
        return RunResult(out, info, out / "embeddings.parquet", {})
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("result.json", "embeddings.parquet"):  # never pair this run.json with an earlier run's output
        (out / stale).unlink(missing_ok=True)
    trajectory = _previous_trajectory(out, config)
    results.write_json_atomic(out / "run.json", config)
    results.write_json_atomic(out / "trajectory.json", trajectory)

    def on_epoch(report: EpochReport) -> None:
        orfs, vectors = _by_orf(report.embedding, standards)
        step = Counter(progress, f"scoring epoch {report.epoch}", len(standards.tiers))
        scores = (
            evaluator.evaluate_embedding(orfs, vectors, standards, with_curve=False, progress=lambda tier: step())
            if orfs
            else {}
        )
        entry = {
            "epoch": int(report.epoch),
            "logs": {key: float(value) for key, value in report.logs.items()},
            "tiers": {tier: {m: s.get(m) for m in TRAJECTORY_METRICS} for tier, s in scores.items()},
        }
        trajectory[:] = sorted(
            [e for e in trajectory if e["epoch"] != entry["epoch"]] + [entry], key=lambda e: e["epoch"]
        )
        results.write_json_atomic(out / "trajectory.json", trajectory)

    embedding = _embed(info, replace(request, on_epoch=on_epoch, progress=progress))

    table_path = out / "embeddings.parquet"
    metadata = {
        "embedder": name,
        "version": info.version,
        "dataset": getattr(cells, "dataset", None) or embedding.dataset or "none",
        "data": data,
        "protocol": protocol,
        "seed": seed,
        "params": embedding.params,
    }
    if getattr(info.embedder, "labels", None) is not None:  # what its training saw: the site's label marks
        metadata["labels"] = list(info.embedder.labels)
    table.write_table(table_path, embedding.proteins, embedding.vectors, metadata)
    step = Counter(progress, "evaluating tiers", len(standards.tiers))
    final = table.read_table(table_path, standards)
    for line in final.warnings:  # a collapsed embedding, dropped ids: said, not silently scored
        (warn or (lambda message: None))(f"{table_path}: {line}")
    result = evaluator.evaluate_table(final, standards, progress=lambda tier: step())
    result["trajectory"] = trajectory
    results.write_json_atomic(out / "result.json", result)
    return RunResult(out, info, table_path, result)


def compute_summary(params: dict) -> str | None:
    """One line on what a torch embedder computed in, from its ``Embedding.params`` (None for others), e.g.
    "precision fp32 (chosen automatically) on cpu, CPU kind AVX2, 2 threads": bit-for-bit reproducible only on
    the same precision and CPU kind (docs/deeploc.md)."""
    if "precision" not in params:
        return None
    chosen = {
        "auto": "chosen automatically",
        "option": "from --option precision",
        "checkpoint": "kept from the checkpoints resumed",
    }.get(params.get("precision_chosen_by"), "")
    line = f"precision {params['precision']}" + (f" ({chosen})" if chosen else "")
    line += f" on {params.get('device', '?')}, CPU kind {params.get('cpu', 'unknown')}"
    return line + (f", {params['threads']} threads" if params.get("threads") else "")


def is_main_process() -> bool:
    """False in the processes of a torchrun job other than rank 0 (docs/distributed.md): they take part in
    training but only rank 0 writes the run folder, scores the epochs and prints."""
    return os.environ.get("RANK", "0") == "0"


def _embed(info: plugins.EmbedderInfo, request: EmbedRequest) -> Embedding:
    """Call the plugin; its crash or malformed output becomes an error that names it."""
    try:
        embedding = info.embedder.embed(request)
    except RepbenchError:
        raise
    except ModuleNotFoundError as error:  # an optional dependency: name the extra (in every torchrun process)
        missing = MissingExtra.for_module(error.name)
        if missing is None:
            raise RepbenchError(
                "embedder-failed",
                f"embedder {info.name!r} (package {info.package}) failed: "
                f"{type(error).__name__}: {error} (run with --debug for the traceback)",
            ) from error
        raise missing from None
    except Exception as error:
        raise RepbenchError(
            "embedder-failed",
            f"embedder {info.name!r} (package {info.package}) failed: "
            f"{type(error).__name__}: {error} (run with --debug for the traceback)",
        ) from error
    if (
        not isinstance(embedding, Embedding)
        or len(getattr(embedding.vectors, "shape", ())) != 2
        or embedding.vectors.shape[0] != len(embedding.proteins)
    ):
        raise RepbenchError(
            "embedder-bad-output",
            f"embedder {info.name!r} (package {info.package}) did not return "
            "an Embedding with one row of vectors (n_proteins, dim) per protein",
        )
    return embedding


def check_evaluable(cells, standards) -> None:
    """Refuse, before training, data whose test split holds too few proteins the standards know: the table
    would be refused afterwards anyway (``too-few-proteins``, as ``repbench evaluate`` says it)."""
    from .table import MIN_PROTEINS

    index = cells.index
    names = [str(p) for p in index.loc[index["split"] == "test", "protein"].unique()]
    known = {orf for orf in standards.idmap.resolve(names).orfs if orf is not None}
    if len(known) < MIN_PROTEINS:
        raise RepbenchError(
            "too-few-proteins",
            f"{getattr(cells, 'name', 'the data')}: {len(known)} protein(s) "
            f"with test-split cells map to ORFs the standards know; the table could not be "
            f"evaluated (at least {MIN_PROTEINS} needed), so nothing was trained",
        )


def _by_orf(embedding: Embedding, standards) -> tuple[list[str], np.ndarray]:
    """An epoch's vectors as the evaluator takes them: (ORFs (n,), vectors (n, dim)), checked as a table is
    (:func:`repbench.table.check_vectors`; a repeated ORF keeps its first row). An epoch whose vectors the
    table checks would refuse (NaN, a constant row, too few proteins) gets no score: it costs its score,
    not the run; the final table is then refused with the reason."""
    from .table import Limits, check_vectors

    vectors = np.asarray(embedding.vectors, dtype=np.float64)
    try:
        checked = check_vectors(
            [str(p) for p in embedding.proteins], vectors, standards, Limits(min_proteins=2), duplicates="first"
        )
    except RepbenchError:
        return [], vectors[:0]
    return checked["proteins"], checked["vectors"]


def _previous_trajectory(out: Path, config: dict) -> list[dict]:
    """The trajectory of an earlier run of the same configuration in ``out`` (a resume), else []."""
    try:
        previous = json.loads((out / "run.json").read_text())
        trajectory = json.loads((out / "trajectory.json").read_text())
    except (OSError, ValueError):
        return []
    same = all(previous.get(key) == config[key] for key in RESUME_KEYS)
    return trajectory if same and isinstance(trajectory, list) else []


from . import _make_callable  # noqa: E402  (repbench.run() is also the API function)

_make_callable(__import__("sys").modules[__name__])
