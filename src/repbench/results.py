"""Result and submission records: building them, checking their schema, writing them atomically.

The schema ``repbench.result/1`` is documented in docs/results.md; :class:`Record` is its typed form
(``Record.from_dict`` checks a record, ``Record.check`` lists every problem, ``validate_record`` is the same
as a list). The site build, ``submit`` and the tests use it to refuse a record that does not match.
"""

from __future__ import annotations

import math
import platform
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import __version__
from .errors import RepbenchError
from .files import current_umask, write_json_atomic  # noqa: F401 (the record's writer)
from .standards import tiers_of

SCHEMA = "repbench.result/1"
DATASETS = ("synthetic", "real", "unknown")
#: every per-tier score of the record, in display order (the one list; the tiers come from the standards)
METRICS = ("ami", "map", "f05", "ap")
#: the headline scores: AMI, mAP and F0.5 on each tier
HEADLINE_METRICS = ("ami", "map", "f05")
METRIC_TITLES = {"ami": "AMI", "map": "mAP", "f05": "F0.5", "ap": "AP"}
SCORE_KEYS = METRICS  # the name used before
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
    tag = str(metadata.get("dataset")).lower()  # missing: "none", not a dataset
    return tag if tag in DATASETS else "unknown"


def slugify(name: str) -> str:
    """A file-name-safe slug of [a-z0-9-]: never empty, never a path, at most 64 characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX].strip("-")
    if not slug:
        raise RepbenchError(
            "bad-name", f"the name {name!r} has no letters or digits to make a file name from; choose another"
        )
    return slug


def make_submission(
    result: dict,
    name: str,
    description: str = "",
    reference: bool = False,
    embedding_file: str | None = None,
    labels: list[str] | None = None,
) -> dict:
    """The submission record of ``result``. ``labels``: what the model was trained with ([] for none; None:
    the table's metadata ``labels`` if it has them, else not declared)."""
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
    stated = (result["input"].get("metadata") or {}).get("labels") if labels is None else labels
    if isinstance(stated, list):
        record["submission"]["labels"] = [str(label) for label in stated]
    return record


def _number(x: Any, lo: float = -math.inf, hi: float = math.inf) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and lo <= x <= hi


# ---- the typed record -----------------------------------------------------------------------------------
# One dataclass per block of docs/results.md. ``from_dict`` checks a block and collects every problem as
# "path: what is wrong"; keys a block does not declare are kept in ``extra`` and written back unchanged, so a
# later evaluator's fields (or a plugin's) pass through every tool that reads and rewrites records.

SHA256 = re.compile(r"[0-9a-f]{64}")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


class _Block:
    """Shared by the record's dataclasses: ``to_dict`` (declared fields, then ``extra``)."""

    extra: dict

    @classmethod
    def _declared(cls) -> list:
        return [f for f in fields(cls) if f.name != "extra"]

    def to_dict(self) -> dict:
        out = {}
        for f in self._declared():
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = value.to_dict() if isinstance(value, _Block) else value
        return {**out, **self.extra}

    @classmethod
    def _split(cls, data: dict) -> tuple[dict, dict]:
        names = {f.name for f in cls._declared()}
        return {k: v for k, v in data.items() if k in names}, {k: v for k, v in data.items() if k not in names}


@dataclass
class TierScores(_Block):
    """One tier's scores (docs/evaluation.md); a skipped tier has ``skipped`` and None scores."""

    proteins: int
    groups: int = 0
    pairs: int = 0
    positive_pairs: int = 0
    prevalence: float | None = None
    ap: float | None = None
    f05: float | None = None
    map: float | None = None
    map_ci: list | None = None
    map_queries: int = 0
    ami: float | None = None
    ami_sd: float | None = None
    skipped: str | None = field(default=None, metadata={"omit_none": True})
    pr_curve: dict | None = field(default=None, metadata={"omit_none": True})
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str, problems: list[str]) -> "TierScores | None":
        if not isinstance(data, dict):
            problems.append(f"{where}: not an object")
            return None
        known, extra = cls._split(data)
        if not data.get("skipped"):
            for key in (*METRICS, "prevalence"):
                if not _number(data.get(key), -1, 1):
                    problems.append(f"{where}.{key}: not a number in [-1, 1]")
            ci = data.get("map_ci")
            if not (isinstance(ci, list) and len(ci) == 2 and all(_number(v, 0, 1) for v in ci)):
                problems.append(f"{where}.map_ci: not a pair of numbers")
            if "ami_sd" in data and not _number(data["ami_sd"], 0, 1):  # optional
                problems.append(f"{where}.ami_sd: not a number")
        curve = data.get("pr_curve")
        if curve is not None and not (
            isinstance(curve, dict)
            and isinstance(curve.get("recall"), list)
            and isinstance(curve.get("precision"), list)
            and len(curve["recall"]) == len(curve["precision"])
            and all(_number(v) for v in curve["recall"] + curve["precision"])
        ):
            problems.append(f"{where}.pr_curve: not two equally long lists of numbers")
        known.setdefault("proteins", 0)
        return cls(**known, extra=extra)


@dataclass
class InputInfo(_Block):
    """The evaluated table: its file name, sha256, size and metadata."""

    path: str
    sha256: str
    proteins: int
    dimension: int
    rows: int | None = field(default=None, metadata={"omit_none": True})
    unknown_ids: list = field(default_factory=list)
    ambiguous_ids: list = field(default_factory=list)
    n_unknown: int = 0
    n_ambiguous: int = 0
    metadata: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict, problems: list[str]) -> "InputInfo | None":
        """The block, or None when it has problems (appended to ``problems``)."""
        before = len(problems)
        if not SHA256.fullmatch(str(data.get("sha256"))):
            problems.append("input.sha256: not a sha256")
        for key in ("proteins", "dimension"):
            if not (isinstance(data.get(key), int) and not isinstance(data.get(key), bool) and data[key] > 0):
                problems.append(f"input.{key}: not a positive integer")
        if not isinstance(data.get("metadata", {}), dict):
            problems.append("input.metadata: not an object")
        if len(problems) > before:
            return None
        known, extra = cls._split(data)
        known.setdefault("path", "")
        return cls(**known, extra=extra)


@dataclass
class Submission(_Block):
    """What ``repbench submit`` adds: the leaderboard's name for the row and its description."""

    name: str
    slug: str
    description: str = ""
    submitted: str = ""
    reference: bool = False
    embedding_file: str | None = field(default=None, metadata={"omit_none": True})
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, problems: list[str]) -> "Submission | None":
        """The block, or None when it has problems (appended to ``problems``)."""
        before = len(problems)
        if not isinstance(data, dict):
            problems.append("submission: not an object")
            return None
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            problems.append("submission.name: missing")
        if not isinstance(data.get("slug"), str) or not SLUG.fullmatch(data["slug"]):
            problems.append("submission.slug: not [a-z0-9-], 1 to 64 characters")
        if not isinstance(data.get("reference", False), bool):
            problems.append("submission.reference: not a boolean")
        ef = data.get("embedding_file")
        if ef is not None and (not isinstance(ef, str) or "/" in ef or "\\" in ef or ef.startswith(".")):
            problems.append("submission.embedding_file: must be a plain file name")
        if len(problems) > before:
            return None
        known, extra = cls._split(data)
        return cls(**known, extra=extra)


@dataclass
class Record(_Block):
    """A result record (``repbench evaluate --json``, ``result.json``) or, with ``submission``, a
    submission record: the schema ``repbench.result/1`` of docs/results.md."""

    schema: str
    created: str
    evaluator: dict
    standards: dict
    input: InputInfo
    dataset: str
    coverage: float
    tiers: dict[str, TierScores]
    unofficial: bool = False
    reference_proteome: int | None = field(default=None, metadata={"omit_none": True})
    environment: dict = field(default_factory=dict)
    submission: Submission | None = field(default=None, metadata={"omit_none": True})
    trajectory: list | None = field(default=None, metadata={"omit_none": True})
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["tiers"] = {tier: scores.to_dict() for tier, scores in self.tiers.items()}
        return out

    @classmethod
    def check(cls, data: Any, submission: bool = False) -> tuple["Record | None", list[str]]:
        """(the record, []) or (None, every problem found). ``submission``: also require the submission
        block (what the site shows)."""
        if not isinstance(data, dict):
            return None, ["not a JSON object"]
        problems: list[str] = []
        if data.get("schema") != SCHEMA:
            problems.append(f"schema is {data.get('schema')!r}, expected {SCHEMA!r}")
        for key, kind in (("evaluator", dict), ("standards", dict), ("input", dict), ("tiers", dict), ("created", str)):
            if not isinstance(data.get(key), kind):
                problems.append(f"{key}: missing or not a {kind.__name__}")
        if problems:
            return None, problems
        if not isinstance(data["evaluator"].get("version"), str):
            problems.append("evaluator.version: missing")
        stamp = data["standards"]
        if not isinstance(stamp.get("version"), str) or not SHA256.fullmatch(str(stamp.get("manifest_sha256"))):
            problems.append("standards: version or manifest_sha256 missing")
        inp = InputInfo.from_dict(data["input"], problems)
        if data.get("dataset") not in DATASETS:
            problems.append(f"dataset: not one of {DATASETS}")
        if not _number(data.get("coverage"), 0, 1):
            problems.append("coverage: not a number in [0, 1]")
        tiers = {}
        known = tiers_of(str(stamp.get("version")))  # missing: every shipped tier (and a problem above)
        for tier, scores in data["tiers"].items():
            if tier not in known:
                problems.append(f"tiers.{tier}: unknown tier")
                continue
            tiers[tier] = TierScores.from_dict(scores, f"tiers.{tier}", problems)
        sub = data.get("submission")
        if sub is None and submission:
            problems.append("no submission block: this is a result, not a submission (use repbench submit)")
        parsed_sub = None if sub is None else Submission.from_dict(sub, problems)
        trajectory = data.get("trajectory")
        if trajectory is not None and not (
            isinstance(trajectory, list)
            and all(
                isinstance(e, dict) and isinstance(e.get("epoch"), int) and isinstance(e.get("tiers", {}), dict)
                for e in trajectory
            )
        ):
            problems.append("trajectory: not a list of {epoch, tiers} objects")
        if problems:
            return None, problems
        known, extra = cls._split(data)
        known.update(input=inp, tiers=tiers, submission=parsed_sub)
        return cls(**known, extra=extra), []

    @classmethod
    def from_dict(cls, data: Any, submission: bool = False) -> "Record":
        """The typed record, or :class:`RepbenchError` ``invalid-record`` naming the first problems."""
        record, problems = cls.check(data, submission=submission)
        if record is None:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise RepbenchError("invalid-record", "; ".join(problems[:3]) + more)
        return record


def validate_record(record: Any, submission: bool = False) -> list[str]:
    """Problems with a result or submission record (empty list: valid); ``submission=True`` is what the
    leaderboard site requires (a submission block). The checks are :meth:`Record.check`'s."""
    return Record.check(record, submission=submission)[1]


def submission_path(folder: Path, slug: str) -> Path:
    """The record's path inside ``folder``; the slug alphabet makes escaping the folder impossible."""
    record = (folder / f"{slug}.json").resolve()
    if record.parent != folder.resolve():  # defence in depth: slugify already guarantees this
        raise RepbenchError("bad-name", f"submission path escapes {folder}")
    return record


def embedding_copy_name(slug: str, sha256: str) -> str:
    """The table kept beside a record is named by its content, so a record never points at another table."""
    return f"{slug}.{sha256[:12]}.parquet"
