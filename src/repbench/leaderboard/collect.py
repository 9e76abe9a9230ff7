"""Step 1 of the build: read the records, keep the valid ones, and say which board and section each row is on.

records (*.json) -> checked (a bad record is reported and skipped, never rendered) -> Entry per record
-> board (its standard set: rows of different sets are never ranked together) -> section inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RepbenchError
from ..results import validate_record
from ..standards import TIERS

COVERAGE_FLOOR = 0.90
REFERENCE_LABELS = {
    "localization": "localization baseline",
    "random": "random baseline",
    "shuffled": "shuffled baseline",
}


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    note: str


SECTIONS = (
    Section(
        "main",
        "Real images, full coverage",
        "Computed from real microscopy images (or, for annotation rows, from people looking at them) and "
        "covering at least 90% of the reference proteome.",
    ),
    Section(
        "unknown",
        "Data set not stated",
        "The embedding's metadata does not say whether it came from real or synthetic images.",
    ),
    Section(
        "partial",
        "Partial coverage",
        "Fewer than 90% of the reference proteome's proteins: scores are over a different protein set, "
        "so they are not ranked with full-coverage submissions.",
    ),
    Section(
        "synthetic",
        "Synthetic data",
        "Embeddings of repbench's synthetic proteome: a check that a pipeline runs, not a result about yeast.",
    ),
)
SECTION_TITLES = {s.key: s.title for s in SECTIONS}


@dataclass
class Mark:
    """One row's rank on one tier (or ``overall``) within its section, from the joint bootstrap."""

    mean_rank: float
    low: float  # 95% rank interval
    high: float
    leader: bool  # the best mean rank
    indistinguishable: bool  # the paired test finds no difference from the leader (not the leader itself)


@dataclass
class Entry:
    """One valid submission record and what the index shows about it."""

    path: Path
    record: dict
    section: str = "main"
    marks: dict[str, Mark] = field(default_factory=dict)  # tier or "overall" -> rank mark
    best: set[tuple[str, str]] = field(default_factory=set)  # (tier, metric) where this row is the section's best
    only_row: bool = False  # alone in its section: nothing to rank against
    overlap: dict[str, float] = field(default_factory=dict)  # tier -> overlap of its groups with this row's labels

    @property
    def submission(self) -> dict:
        return self.record["submission"]

    @property
    def slug(self) -> str:
        return self.submission["slug"]

    @property
    def name(self) -> str:
        return self.submission["name"]

    @property
    def board(self) -> str:
        """The standard set (``yeast-v1``, ``human-v1``): one board each."""
        return self.record["standards"]["version"]

    @property
    def reference(self) -> bool:
        return bool(self.submission.get("reference", False))

    @property
    def annotation(self) -> bool:
        """A real annotation (e.g. Huh 2003 localization flags), not an image embedding."""
        return bool(self.submission.get("annotation", False))

    @property
    def reference_label(self) -> str:
        if self.annotation:
            return "annotation, not an image embedding"
        embedder = (self.record["input"].get("metadata") or {}).get("embedder")
        return REFERENCE_LABELS.get(embedder) or REFERENCE_LABELS.get(self.slug, "reference")

    @property
    def labels(self) -> list[str] | None:
        """The labels its training saw (``[]``: none), from the record or the table's metadata; None: not said."""
        for holder in (self.submission, self.record["input"].get("metadata") or {}):
            value = holder.get("labels")
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        return None

    @property
    def date(self) -> str:
        return str(self.submission.get("submitted") or self.record["created"])[:10]

    def score(self, tier: str, metric: str) -> float | None:
        value = (self.record["tiers"].get(tier) or {}).get(metric)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def interval(self, tier: str) -> tuple[float, float] | None:
        block = self.record["tiers"].get(tier) or {}
        ci = block.get("map_ci")
        return (ci[0], ci[1]) if self.score(tier, "map") is not None and ci else None

    @property
    def mean_map(self) -> float | None:
        """Mean mAP over the record's tiers; None unless every tier was scored."""
        values = [self.score(t, "map") for t in self.record["tiers"]]
        return None if not values or None in values else sum(values) / len(values)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def site_problems(record: dict) -> list[str]:
    """Why the site cannot show ``record`` (empty: it can): the typed record with its submission block
    (which checks curves and trajectories too), then what only the site reads: a list of labels."""
    problems = validate_record(record, submission=True)  # the typed record's checks (repbench.results.Record)
    if problems:
        return problems
    labels = record["submission"].get("labels")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(v, str) for v in labels)):
        problems.append("submission.labels: not a list of strings")
    return problems


def collect(submissions: Path) -> tuple[list[Entry], list[tuple[Path, str]]]:
    """Valid entries (sorted by slug, each in its section) and the skipped files with their first problem."""
    if not submissions.is_dir():
        raise RepbenchError("no-submissions", "submissions folder not found", path=submissions)
    entries: dict[str, Entry] = {}
    skipped: list[tuple[Path, str]] = []
    for path in sorted(submissions.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as error:
            skipped.append((path, f"not valid JSON ({error})"))
            continue
        problems = site_problems(record)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            skipped.append((path, problems[0] + more))
            continue
        slug = record["submission"]["slug"]
        if slug in entries:
            skipped.append((path, f"slug {slug!r} already used by {entries[slug].path.name}"))
            continue
        entries[slug] = Entry(path, record, section=section_of(record))
    return [entries[s] for s in sorted(entries)], skipped


def section_of(record: dict) -> str:
    if record["dataset"] == "synthetic":
        return "synthetic"
    if record["coverage"] < COVERAGE_FLOOR:
        return "partial"
    if record["dataset"] != "real":
        return "unknown"
    return "main"


def board_tiers(entries: list[Entry]) -> list[str]:
    """The tiers a board shows: yeast's in their fixed order, then any other set's in first-seen order."""
    seen: list[str] = []
    for entry in entries:
        seen.extend(t for t in entry.record["tiers"] if t not in seen)
    return [t for t in TIERS if t in seen] + [t for t in seen if t not in TIERS]


def boards(entries: list[Entry]) -> dict[str, list[Entry]]:
    """Standard set -> its entries; yeast-v1 first, then the others by name."""
    out: dict[str, list[Entry]] = {}
    for entry in entries:
        out.setdefault(entry.board, []).append(entry)
    return dict(sorted(out.items(), key=lambda kv: (kv[0] != "yeast-v1", kv[0])))
