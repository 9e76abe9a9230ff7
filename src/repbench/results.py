"""Result and submission records: building them, checking their schema, writing them atomically.

The schema ``repbench.result/1`` is documented in docs/results.md. ``validate_record`` is what the site build
and the tests use to refuse a record that does not match it.
"""
from __future__ import annotations

import json
import math
import os
import platform
import re
import tempfile
import unicodedata
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import __version__
from .errors import RepbenchError
from .standards import TIERS

SCHEMA = "repbench.result/1"
DATASETS = ("synthetic", "real", "unknown")
SCORE_KEYS = ("ap", "f05", "map", "ami")
ID_PREVIEW = 50
SLUG_MAX = 64


def environment() -> dict[str, str]:
    packages = {"repbench": __version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "scikit-learn", "pandas", "pyarrow"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - core dependencies are always there
            packages[name] = "missing"
    return packages


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def dataset_of(metadata: dict) -> str:
    tag = str(metadata.get("dataset", "unknown")).lower()
    return tag if tag in DATASETS else "unknown"


def slugify(name: str) -> str:
    """A file-name-safe slug of [a-z0-9-]: never empty, never a path, at most 64 characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX].strip("-")
    if not slug:
        raise RepbenchError("bad-name", f"the name {name!r} has no letters or digits to make a file name from; choose another")
    return slug


def make_submission(result: dict, name: str, description: str = "", reference: bool = False,
                    embedding_file: str | None = None) -> dict:
    if not name.strip():
        raise RepbenchError("bad-name", "the submission name is empty")
    record = dict(result)
    record["input"] = {**result["input"], "path": Path(result["input"]["path"]).name}
    record["submission"] = {
        "name": name.strip(),
        "slug": slugify(name),
        "description": description,
        "submitted": now(),
        "reference": reference,
    }
    if embedding_file:
        record["submission"]["embedding_file"] = embedding_file
    return record


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """Write JSON so that the file is either the old one or the complete new one, never half of either."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, indent=2, allow_nan=False, default=str) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a published record must be readable
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _number(x: Any, lo: float = -math.inf, hi: float = math.inf) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and lo <= x <= hi


def validate_record(record: Any) -> list[str]:
    """Problems with a result or submission record (empty list: valid)."""
    if not isinstance(record, dict):
        return ["not a JSON object"]
    problems = []
    if record.get("schema") != SCHEMA:
        problems.append(f"schema is {record.get('schema')!r}, expected {SCHEMA!r}")
    for key, kind in (("evaluator", dict), ("standards", dict), ("input", dict), ("tiers", dict), ("created", str)):
        if not isinstance(record.get(key), kind):
            problems.append(f"{key}: missing or not a {kind.__name__}")
    if problems:
        return problems
    if not isinstance(record["evaluator"].get("version"), str):
        problems.append("evaluator.version: missing")
    if not isinstance(record["standards"].get("version"), str) or not re.fullmatch(r"[0-9a-f]{64}", str(record["standards"].get("manifest_sha256", ""))):
        problems.append("standards: version or manifest_sha256 missing")
    inp = record["input"]
    if not re.fullmatch(r"[0-9a-f]{64}", str(inp.get("sha256", ""))):
        problems.append("input.sha256: not a sha256")
    for key in ("proteins", "dimension"):
        if not (isinstance(inp.get(key), int) and inp[key] > 0):
            problems.append(f"input.{key}: not a positive integer")
    if not isinstance(inp.get("metadata", {}), dict):
        problems.append("input.metadata: not an object")
    if record.get("dataset") not in DATASETS:
        problems.append(f"dataset: not one of {DATASETS}")
    if not _number(record.get("coverage"), 0, 1):
        problems.append("coverage: not a number in [0, 1]")
    for tier, scores in record["tiers"].items():
        if tier not in TIERS:
            problems.append(f"tiers.{tier}: unknown tier")
            continue
        if not isinstance(scores, dict):
            problems.append(f"tiers.{tier}: not an object")
            continue
        if scores.get("skipped"):
            continue
        for key in (*SCORE_KEYS, "prevalence"):
            if not _number(scores.get(key), -1, 1):
                problems.append(f"tiers.{tier}.{key}: not a number in [-1, 1]")
        ci = scores.get("map_ci")
        if not (isinstance(ci, list) and len(ci) == 2 and all(_number(v, 0, 1) for v in ci)):
            problems.append(f"tiers.{tier}.map_ci: not a pair of numbers")
        if not _number(scores.get("ami_sd", 0), 0, 1):
            problems.append(f"tiers.{tier}.ami_sd: not a number")
    sub = record.get("submission")
    if sub is not None:
        if not isinstance(sub, dict):
            problems.append("submission: not an object")
        else:
            if not isinstance(sub.get("name"), str) or not sub["name"].strip():
                problems.append("submission.name: missing")
            if not isinstance(sub.get("slug"), str) or not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", sub["slug"]):
                problems.append("submission.slug: not [a-z0-9-], 1 to 64 characters")
            if not isinstance(sub.get("reference", False), bool):
                problems.append("submission.reference: not a boolean")
            ef = sub.get("embedding_file")
            if ef is not None and (not isinstance(ef, str) or "/" in ef or "\\" in ef or ef.startswith(".")):
                problems.append("submission.embedding_file: must be a plain file name")
    trajectory = record.get("trajectory")
    if trajectory is not None:
        if not isinstance(trajectory, list) or not all(isinstance(e, dict) and isinstance(e.get("epoch"), int) for e in trajectory):
            problems.append("trajectory: not a list of {epoch, tiers} objects")
    return problems


def submission_path(folder: Path, slug: str) -> Path:
    """The record's path inside ``folder``; the slug alphabet makes escaping the folder impossible."""
    record = (folder / f"{slug}.json").resolve()
    if record.parent != folder.resolve():  # defence in depth: slugify already guarantees this
        raise RepbenchError("bad-name", f"submission path escapes {folder}")
    return record


def embedding_copy_name(slug: str, sha256: str) -> str:
    """The table kept beside a record is named by its content, so a record never points at another table."""
    return f"{slug}.{sha256[:12]}.parquet"
