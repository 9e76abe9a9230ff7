"""Changing submission records in place: what a maintainer adds to a record, and re-scoring a stored table.

* :func:`amend_record` sets the fields a submitter states (data set, labels, model card, annotation flag);
* :func:`rescore_record` re-evaluates the table kept beside a record with the current evaluator and keeps
  everything the submitter said (:data:`KEPT`), so a record made by an older evaluator gets its new fields.

Both check the record before writing it and write atomically (``results.write_json_atomic``).
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import results
from ..errors import RepbenchError

#: the submission-block fields a submitter states; re-scoring keeps them
KEPT = ("name", "slug", "description", "submitted", "reference", "annotation", "labels", "model_card", "embedding_file")


def read_record(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RepbenchError("bad-record", f"cannot read the record ({error})", path=path) from None


def _write(path: Path, record: dict) -> Path:
    problems = results.validate_record(record)
    if problems or not isinstance(record.get("submission"), dict):
        raise RepbenchError("invalid-record", "; ".join(problems[:3]) or "no submission block", path=path)
    return results.write_json_atomic(path, record)


def amend_record(
    path: Path,
    *,
    dataset: str | None = None,
    labels: list[str] | None = None,
    model_card: str | None = None,
    annotation: bool | None = None,
) -> dict:
    """Set the stated fields of the record at ``path`` (None: leave as it is) and write it back atomically."""
    record = read_record(path)
    if dataset is not None:
        if dataset not in results.DATASETS:
            raise RepbenchError("bad-dataset", f"dataset {dataset!r} is not one of {', '.join(results.DATASETS)}")
        record["dataset"] = dataset
    submission = record.setdefault("submission", {})
    if labels is not None:
        submission["labels"] = list(labels)
    if model_card is not None:
        submission["model_card"] = model_card
    if annotation is not None:
        submission["annotation"] = bool(annotation)
    _write(Path(path), record)
    return record


def rescore_record(path: Path, standards=None) -> dict:
    """Re-evaluate the table kept beside the record at ``path``; keep :data:`KEPT`, the data set and trajectory.

    Raises RepbenchError ``no-table`` when the record keeps no table (nothing to re-score) or the table's
    sha256 is not the record's ``input.sha256`` (it would score another table).
    """
    from ..evaluator import evaluate_table
    from ..standards import load
    from ..table import file_sha256, read_table

    path = Path(path)
    old = read_record(path)
    name = (old.get("submission") or {}).get("embedding_file")
    if not name:
        raise RepbenchError("no-table", "the record keeps no embedding table beside it; nothing to re-score", path=path)
    table_path = path.parent / name
    if not table_path.is_file():
        raise RepbenchError("no-table", f"the embedding table {name} is not beside the record", path=path)
    if file_sha256(table_path) != old["input"]["sha256"]:
        raise RepbenchError("no-table", f"{name} does not match the record's input.sha256", path=path)
    standards = standards or load(old["standards"]["version"])
    table = read_table(table_path, standards)
    result = evaluate_table(table, standards)
    result["input"]["path"] = old["input"].get("path", name)
    record = {**result, "dataset": old["dataset"]}
    record["submission"] = {k: old["submission"][k] for k in KEPT if k in old["submission"]}
    if old.get("trajectory") is not None:
        record["trajectory"] = old["trajectory"]
    _write(path, record)
    return record
