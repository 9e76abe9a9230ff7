"""``repbench submit``: validate, evaluate and write a leaderboard record, and find the leaderboard.

The leaderboard is found the way git finds its repository: ``--to DIR`` (``--submissions DIR``) if given,
else ``$REPBENCH_LEADERBOARD`` (a leaderboard folder holding ``submissions/``, or the submissions folder
itself), else the nearest ``leaderboard/submissions`` in the current folder or one above it. Nothing is
created silently in the current folder; the command says where the record went.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import results
from .errors import RepbenchError, UsageError
from .files import write_atomic
from .progress import Progress

LEADERBOARD_ENV = "REPBENCH_LEADERBOARD"


def find_leaderboard(explicit: str | Path | None = None, start: str | Path | None = None) -> Path:
    """The submissions folder: ``explicit``, else ``$REPBENCH_LEADERBOARD``, else the nearest
    ``leaderboard/submissions`` at or above ``start`` (default: the current folder)."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(LEADERBOARD_ENV)
    if env:
        folder = Path(env)
        return folder / "submissions" if (folder / "submissions").is_dir() else folder
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "leaderboard" / "submissions").is_dir():
            return folder / "leaderboard" / "submissions"
        if folder.name == "leaderboard" and (folder / "submissions").is_dir():
            return folder / "submissions"
    raise RepbenchError(
        "no-leaderboard",
        f"no leaderboard/submissions folder in {here} or above it; pass "
        f"--to DIR (--submissions DIR) or set {LEADERBOARD_ENV}",
    )


@dataclass
class Submitted:
    record_path: Path
    slug: str
    record: dict
    table_copy: Path | None


def read_trajectory(file: Path, explicit: Path | None) -> list | None:
    """A run folder keeps trajectory.json beside embeddings.parquet: carry it into the record."""
    path = explicit or (file.parent / "trajectory.json")
    if not path.is_file():
        if explicit:
            raise RepbenchError("not-found", "trajectory file not found", path=explicit)
        return None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RepbenchError("bad-trajectory", f"not valid JSON ({error})", path=path) from None
    data = data.get("trajectory", data) if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise RepbenchError("bad-trajectory", "expected a list of epochs", path=path)
    return data


def parse_labels(text: str | None) -> list[str] | None:
    """``--labels localization,protein-identity`` / ``none`` -> a list (None when not given); checked."""
    if text is None:
        return None
    labels = [x.strip() for x in text.split(",") if x.strip() and x.strip().lower() != "none"]
    check_labels(labels)
    return labels


def check_labels(labels: list[str] | None) -> None:
    from .embedders import LABEL_KINDS

    unknown = sorted(set(labels or ()) - set(LABEL_KINDS))
    if unknown:
        raise UsageError(
            "bad-labels", f"--labels {', '.join(unknown)}: not a label kind; known: {', '.join(LABEL_KINDS)}, or none"
        )


def submit(
    file: str | Path,
    name: str,
    description: str = "",
    *,
    to: str | Path | None = None,
    dataset: str | None = None,
    replace: bool = False,
    reference: bool = False,
    copy_embedding: bool = True,
    trajectory: str | Path | None = None,
    duplicates: str = "error",
    limits: Any = None,
    standards: Any = None,
    progress: Progress | None = None,
    warn: Any = None,
    labels: list[str] | None = None,
) -> Submitted:
    """Evaluate the table ``file`` and write ``<slug>.json`` (and the table's copy) into the submissions folder.

    ``dataset``: real | synthetic | unknown (default: the table's ``repbench`` metadata, else unknown).
    ``labels``: what the model was trained with (kinds of ``embedders.LABEL_KINDS``; [] for none; default: the
    table's metadata ``labels``, else not declared).
    """
    from .api import evaluate

    file = Path(file)
    if dataset is not None and dataset not in results.DATASETS:
        raise UsageError("bad-dataset", f"--dataset {dataset}: expected one of {', '.join(results.DATASETS)}")
    check_labels(labels)
    slug = results.slugify(name)  # checks the name before any work
    folder = find_leaderboard(to)
    record_path = results.submission_path(folder, slug)
    if record_path.exists() and not replace:
        raise RepbenchError(
            "exists", f"a submission {slug!r} exists already; pass --replace to overwrite it", path=record_path
        )
    result = evaluate(file, standards, duplicates=duplicates, limits=limits, progress=progress, warn=warn).record
    if dataset is not None:
        result["dataset"] = dataset  # the submitter's word beats the table's metadata
    table_copy = folder / results.embedding_copy_name(slug, result["input"]["sha256"])
    record = results.make_submission(
        result,
        name,
        description,
        reference=reference,
        embedding_file=table_copy.name if copy_embedding else None,
        labels=labels,
    )
    steps = read_trajectory(file, None if trajectory is None else Path(trajectory))
    if steps is not None:
        record["trajectory"] = steps
    results.Record.from_dict(record, submission=True)  # a bug if it fails: never write what the site refuses
    # order matters for a kill at any point: the new table copy first, then the record that points at it,
    # then the old copies nothing points at any more
    if copy_embedding:
        write_atomic(table_copy, write=lambda tmp: shutil.copyfile(file, tmp))
    results.write_json_atomic(record_path, record)
    for stale in folder.glob(f"{slug}.*.parquet"):
        if stale != table_copy:
            stale.unlink(missing_ok=True)
    return Submitted(record_path, slug, record, table_copy if copy_embedding else None)
