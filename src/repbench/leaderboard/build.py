"""Build the static leaderboard site from submission records.

    records (leaderboard/submissions/*.json)
      -> collect + validate (a bad record is reported and skipped, never rendered)
      -> sections (real images with full coverage / data set not stated / partial coverage / synthetic)
      -> ranking inside each section: best value per column, per-tier leader by mAP, ties (95% intervals overlap)
      -> pictures (figures.py, cached) -> Jinja2 pages (autoescaped) + CSV/JSON downloads
      -> written to a temporary folder next to --out, then swapped in (a killed build leaves the old site).

The site has no external references: CSS, JS and pictures are local files or inline SVG.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Callable

import jinja2
from markupsafe import Markup

from .. import __version__
from ..errors import RepbenchError
from ..results import validate_record
from ..standards import TIER_TITLES, TIERS
from . import figures

COVERAGE_FLOOR = 0.90
METRICS = ("ami", "map", "f05")
METRIC_LABELS = {"ami": "AMI", "map": "mAP", "f05": "F0.5"}
TIER_SHORT = {"go_cc": "GO-CC", "go_bp": "GO-BP", "kegg": "KEGG", "complex": "Complexes"}
REFERENCE_LABELS = {"localization": "localization baseline", "random": "random baseline",
                    "shuffled": "shuffled baseline"}


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    note: str


SECTIONS = (
    Section("main", "Real images, full coverage",
            "Submissions embedded from real microscopy images and covering at least 90% of the reference proteome."),
    Section("unknown", "Data set not stated",
            "The embedding's metadata does not say whether it came from real or synthetic images."),
    Section("partial", "Partial coverage",
            "Fewer than 90% of the reference proteome's proteins: scores are over a different protein set, "
            "so they are not ranked with full-coverage submissions."),
    Section("synthetic", "Synthetic data",
            "Embeddings of repbench's synthetic proteome: a check that a pipeline runs, not a result about yeast."),
)


@dataclass
class Entry:
    """One valid submission record and what the index shows about it."""

    path: Path
    record: dict
    section: str = "main"
    leader: dict[str, bool] = field(default_factory=dict)   # tier -> highest mAP in its section
    tied: dict[str, bool] = field(default_factory=dict)     # tier -> 95% mAP interval overlaps the leader's
    best: set[tuple[str, str]] = field(default_factory=set)  # (tier, metric) where this row is the section's best

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
    def reference(self) -> bool:
        return bool(self.submission.get("reference", False))

    @property
    def reference_label(self) -> str:
        return REFERENCE_LABELS.get(self.slug, "reference")

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
        """Mean mAP over the four tiers (the default order); None unless every tier was scored."""
        values = [self.score(t, "map") for t in TIERS]
        return None if None in values else sum(values) / len(values)


@dataclass
class BuildReport:
    out: Path
    entries: list[Entry]
    skipped: list[tuple[Path, str]]  # (file, problem)
    seconds: float = 0.0


# ---- collect and validate --------------------------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _site_problems(record: dict) -> list[str]:
    """What the site needs beyond the result schema: a submission block and drawable curves."""
    problems = []
    if not isinstance(record.get("submission"), dict):
        return ["no submission block: this is a result, not a submission (use repbench submit)"]
    for tier, block in record["tiers"].items():
        curve = (block or {}).get("pr_curve")
        if curve is None:
            continue
        ok = (isinstance(curve, dict) and isinstance(curve.get("recall"), list)
              and isinstance(curve.get("precision"), list) and len(curve["recall"]) == len(curve["precision"])
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                      for v in curve["recall"] + curve["precision"]))
        if not ok:
            problems.append(f"tiers.{tier}.pr_curve: not two equally long lists of numbers")
    trajectory = record.get("trajectory") or []
    for step in trajectory:
        if not isinstance(step.get("tiers", {}), dict):
            problems.append("trajectory: an epoch's tiers is not an object")
            break
    return problems


def collect(submissions: Path) -> tuple[list[Entry], list[tuple[Path, str]]]:
    """Valid entries (sorted by slug) and the skipped files with their first problem."""
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
        problems = validate_record(record) or _site_problems(record)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            skipped.append((path, problems[0] + more))
            continue
        slug = record["submission"]["slug"]
        if slug in entries:
            skipped.append((path, f"slug {slug!r} already used by {entries[slug].path.name}"))
            continue
        entries[slug] = Entry(path, record)
    return [entries[s] for s in sorted(entries)], skipped


# ---- sections and ranking -------------------------------------------------------------------------------


def section_of(record: dict) -> str:
    if record["dataset"] == "synthetic":
        return "synthetic"
    if record["coverage"] < COVERAGE_FLOOR:
        return "partial"
    if record["dataset"] != "real":
        return "unknown"
    return "main"


def rank(entries: list[Entry]) -> None:
    """Mark, inside one section, the best value per score column and each tier's leader and ties.

    The leader of a tier has the highest mAP; a row is tied with it when its 95% mAP interval overlaps the
    leader's. Reference rows take part: a model tied with the random baseline should be seen to be.
    """
    for tier in TIERS:
        for metric in METRICS:
            values = [e.score(tier, metric) for e in entries]
            present = [v for v in values if v is not None]
            if present:
                top = max(present)
                for entry, value in zip(entries, values):
                    if value == top:
                        entry.best.add((tier, metric))
        scored = [e for e in entries if e.interval(tier) is not None]
        if not scored:
            continue
        leader = max(scored, key=lambda e: (e.score(tier, "map"), e.interval(tier)[0], e.slug))
        low, high = leader.interval(tier)
        for entry in scored:
            entry_low, entry_high = entry.interval(tier)
            entry.leader[tier] = entry is leader
            entry.tied[tier] = entry is not leader and entry_high >= low and entry_low <= high


def sectioned(entries: list[Entry]) -> list[tuple[Section, list[Entry]]]:
    """Non-empty sections in display order; rows by mean mAP (unscored last), then name."""
    out = []
    for section in SECTIONS:
        rows = [e for e in entries if e.section == section.key]
        if rows:
            rows.sort(key=lambda e: (e.mean_map is None, -(e.mean_map or 0.0), e.name.lower(), e.slug))
            rank(rows)
            out.append((section, rows))
    return out


# ---- downloads ------------------------------------------------------------------------------------------


def table_rows(sections: list[tuple[Section, list[Entry]]]) -> list[dict]:
    """The index table as flat rows (the CSV and JSON downloads)."""
    rows = []
    for section, entries in sections:
        for entry in entries:
            record = entry.record
            row = {
                "slug": entry.slug, "name": entry.name, "section": section.key,
                "reference": entry.reference, "dataset": record["dataset"],
                "coverage": record["coverage"], "dimension": record["input"]["dimension"],
                "proteins": record["input"]["proteins"], "date": entry.date,
                "evaluator": record["evaluator"]["version"], "standards": record["standards"]["version"],
                "standards_sha256": record["standards"]["manifest_sha256"], "input_sha256": record["input"]["sha256"],
            }
            for tier in TIERS:
                block = record["tiers"].get(tier) or {}
                interval = entry.interval(tier) or (None, None)
                row.update({
                    f"{tier}_ami": entry.score(tier, "ami"), f"{tier}_ami_sd": block.get("ami_sd"),
                    f"{tier}_map": entry.score(tier, "map"),
                    f"{tier}_map_ci_low": interval[0], f"{tier}_map_ci_high": interval[1],
                    f"{tier}_f05": entry.score(tier, "f05"), f"{tier}_prevalence": block.get("prevalence"),
                    f"{tier}_leader": entry.leader.get(tier, False), f"{tier}_tied_with_leader": entry.tied.get(tier, False),
                })
            rows.append(row)
    return rows


def _csv_cell(value):
    # A cell that starts with = + - @ would run as a formula in a spreadsheet: quote it as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return buffer.getvalue()


# ---- paper panel ----------------------------------------------------------------------------------------


PAPER_STANDARDS = {"GO_CC": "go_cc", "GO_BP_slim": "go_bp", "KEGG_pathways": "kegg", "protein_complexes_EMBL": "complex"}
PAPER_METRICS = {"average_precision": "AP", "AMI": "AMI", "F_score": "F-score"}


def paper_values() -> dict:
    """The values read off the paper's figures: {methods, rows: [(metric, tier, [values])]}."""
    text = (resources.files("repbench") / "resources" / "paper" / "figure1_reported_values.csv").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines)
    methods = [m for m in reader.fieldnames if m not in ("metric", "standard", "source")]
    rows = [(PAPER_METRICS[r["metric"]], TIER_SHORT[PAPER_STANDARDS[r["standard"]]], [float(r[m]) for m in methods])
            for r in reader]
    labels = {"PairedCellInpainting": "Paired Cell Inpainting", "CellProfiler_PCA": "CellProfiler (PCA)"}
    return {"methods": [labels.get(m, m) for m in methods], "rows": rows}


# ---- rendering ------------------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("repbench.leaderboard", "templates"),
        autoescape=True,  # every value from a record is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, digits=3: "–" if v is None else f"{v:.{digits}f}"
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.1f}%"
    env.filters["short"] = lambda s: str(s)[:12]
    return env


def _build_date() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for a reproducible build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)


def _provenance(entries: list[Entry], built: datetime) -> dict:
    evaluators = sorted({e.record["evaluator"]["version"] for e in entries})
    standards = sorted({(e.record["standards"]["version"], e.record["standards"]["manifest_sha256"]) for e in entries})
    return {"date": built.strftime("%Y-%m-%d %H:%M UTC"), "count": len(entries), "evaluators": evaluators,
            "standards": standards, "repbench": __version__}


def default_cache(out: Path) -> Path:
    return Path(os.environ["REPBENCH_CACHE"]) if os.environ.get("REPBENCH_CACHE") else out / ".cache"


def _figure_job(entry: Entry) -> figures.FigureJob:
    name = entry.submission.get("embedding_file")
    return figures.FigureJob(
        slug=entry.slug, input_sha256=entry.record["input"]["sha256"], tiers=entry.record["tiers"],
        trajectory=entry.record.get("trajectory") or None,
        embedding_path=entry.path.parent / name if name else None,
    )


def _as_markup(page: figures.PageFigures) -> dict:
    """Our own matplotlib SVG is inserted as markup; everything from a record stays escaped text."""
    return {"svg": {k: Markup(v) if v else None for k, v in page.svg.items()}, "tsne_note": page.tsne_note}


def render_site(entries: list[Entry], site: Path, pictures: dict[str, figures.PageFigures], built: datetime) -> None:
    """Write index.html, one page per submission, the downloads and the static files into ``site``."""
    env = _environment()
    sections = sectioned(entries)
    provenance = _provenance(entries, built)
    common = {"tiers": TIERS, "tier_short": TIER_SHORT, "tier_titles": TIER_TITLES, "metrics": METRICS,
              "metric_labels": METRIC_LABELS, "provenance": provenance}
    (site / "s").mkdir(parents=True)
    shutil.copytree(Path(str(resources.files("repbench.leaderboard") / "static")), site / "static")
    paper_png = resources.files("repbench") / "resources" / "paper" / "figure1b_average_precision.png"
    (site / "static" / "paper-figure1b.png").write_bytes(paper_png.read_bytes())

    index = env.get_template("index.html.j2").render(sections=sections, paper=paper_values(), root=".", **common)
    (site / "index.html").write_text(index, encoding="utf-8")
    rows = table_rows(sections)
    (site / "leaderboard.csv").write_text(to_csv(rows), encoding="utf-8")
    payload = {"built": built.isoformat(timespec="seconds"), "provenance": provenance, "rows": rows}
    (site / "leaderboard.json").write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")

    page = env.get_template("submission.html.j2")
    titles = {s.key: s.title for s in SECTIONS}
    for entry in entries:
        html = page.render(entry=entry, record=entry.record, section_title=titles[entry.section],
                           pictures=_as_markup(pictures[entry.slug]), root="..", **common)
        (site / "s" / f"{entry.slug}.html").write_text(html, encoding="utf-8")


def _swap_in(site: Path, out: Path) -> None:
    """Replace ``out`` by ``site``; until the last rename the old site stays whole."""
    if not out.exists():
        os.rename(site, out)
        return
    if not (out / "index.html").is_file() and any(p.name != ".cache" for p in out.iterdir()):
        raise RepbenchError("out-not-a-site", "--out exists and is not a leaderboard site; refusing to replace it",
                            path=out)
    if _exchange(site, out):  # one atomic step: no moment without a whole site at ``out``
        shutil.rmtree(site, ignore_errors=True)  # ``site`` now holds the old one
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, retired / "site")
    os.rename(site, out)
    shutil.rmtree(retired, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically with Linux's renameat2(RENAME_EXCHANGE); False where unavailable."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def build_site(submissions: Path, out: Path, cache: Path | None = None, workers: int = 1,
               on_progress: Callable[[str, int, int], None] | None = None) -> BuildReport:
    """Build the site from ``submissions`` into ``out`` atomically; see the module docstring.

    ``on_progress(stage, done, total)`` is called as pages' pictures are ready. With ``workers > 1`` missing
    pictures are drawn in spawned processes, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    import time

    started = time.perf_counter()
    submissions, out = Path(submissions), Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise RepbenchError("out-not-a-site", "--out is a file, not a folder", path=out)
    entries, skipped = collect(submissions)
    for entry in entries:
        entry.section = section_of(entry.record)
    default = cache is None
    cache = Path(cache) if cache else default_cache(out)
    cache.mkdir(parents=True, exist_ok=True)

    total = len(entries)
    count = {"done": 0}

    def tick(_slug: str) -> None:
        count["done"] += 1
        if on_progress:
            on_progress("pictures", count["done"], total)

    if on_progress:
        on_progress("pictures", 0, total)
    pictures = figures.all_figures([_figure_job(e) for e in entries], cache, workers=workers, on_done=tick)

    out.parent.mkdir(parents=True, exist_ok=True)
    site = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        render_site(entries, site, pictures, _build_date())
        if default and cache.is_dir() and cache.parent == out:  # the cache lives in the site: carry it over
            os.rename(cache, site / ".cache")
        os.chmod(site, 0o755)
        _swap_in(site, out)
    except BaseException:
        shutil.rmtree(site, ignore_errors=True)
        raise
    return BuildReport(out, entries, skipped, time.perf_counter() - started)

