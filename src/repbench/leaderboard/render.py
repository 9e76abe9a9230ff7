"""Step 3 of the build: the pages (Jinja2, autoescaped) and the CSV / JSON downloads, written into a folder.

Every value from a record is text; only the SVG that repbench draws itself is inserted as markup.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from .. import __version__
from ..standards import TIER_TITLES
from . import figures, groups
from .collect import SECTION_TITLES, Entry, Section
from .overlap import LABEL_TITLES, MARK_AT
from .rank import METRICS, OVERALL

HEADLINE = ("ami", "map", "f05")
METRIC_LABELS = {"ami": "AMI", "map": "mAP", "f05": "F0.5", "ap": "AP"}
TIER_SHORT = {"go_cc": "GO-CC", "go_bp": "GO-BP", "kegg": "KEGG", "complex": "Complexes", "reactome": "Reactome"}


@dataclass
class Board:
    """One standard set's leaderboard: its tiers, its ranked sections and its tiers' label overlap."""

    version: str
    tiers: list[str]
    sections: list[tuple[Section, list[Entry]]]
    overlap: dict[str, float]  # tier -> overlap of its groups with the localization classes

    @property
    def key(self) -> str:
        return self.version

    @property
    def count(self) -> int:
        return sum(len(rows) for _, rows in self.sections)

    def section_id(self, section: Section) -> str:
        return f"{self.version}-{section.key}"


# ---- downloads ------------------------------------------------------------------------------------------


def table_rows(boards: list[Board]) -> list[dict]:
    """The index tables as flat rows (the CSV and JSON downloads): one per submission."""
    rows = []
    for board in boards:
        for section, entries in board.sections:
            for entry in entries:
                rows.append(_row(board, section, entry))
    return rows


def _row(board: Board, section: Section, entry: Entry) -> dict:
    record = entry.record
    labels = entry.labels
    row = {
        "slug": entry.slug,
        "name": entry.name,
        "standards": board.version,
        "section": section.key,
        "reference": entry.reference,
        "annotation": entry.annotation,
        "dataset": record["dataset"],
        "labels": "undeclared" if labels is None else " ".join(labels) or "none",
        "coverage": record["coverage"],
        "dimension": record["input"]["dimension"],
        "proteins": record["input"]["proteins"],
        "date": entry.date,
        "evaluator": record["evaluator"]["version"],
        "standards_sha256": record["standards"]["manifest_sha256"],
        "input_sha256": record["input"]["sha256"],
        "only_row": entry.only_row,
    }
    for key in (OVERALL, *board.tiers):
        mark = entry.marks.get(key)
        row.update(
            {
                f"{key}_rank_mean": mark.mean_rank if mark else None,
                f"{key}_rank_low": mark.low if mark else None,
                f"{key}_rank_high": mark.high if mark else None,
                f"{key}_leader": bool(mark and mark.leader),
                f"{key}_indistinguishable_from_leader": bool(mark and mark.indistinguishable),
            }
        )
    for tier in board.tiers:
        block = record["tiers"].get(tier) or {}
        interval = entry.interval(tier) or (None, None)
        row.update(
            {
                f"{tier}_ami": entry.score(tier, "ami"),
                f"{tier}_ami_sd": block.get("ami_sd"),
                f"{tier}_map": entry.score(tier, "map"),
                f"{tier}_map_ci_low": interval[0],
                f"{tier}_map_ci_high": interval[1],
                f"{tier}_f05": entry.score(tier, "f05"),
                f"{tier}_ap": entry.score(tier, "ap"),
                f"{tier}_prevalence": block.get("prevalence"),
                f"{tier}_label_overlap": entry.overlap.get(tier),
            }
        )
    return row


#: what makes a spreadsheet read a cell as a formula (OWASP "CSV injection"): = + - @, and tab or carriage return
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value):
    # A text cell that starts with a formula trigger, also after leading whitespace (spreadsheets trim it), would
    # run as a formula: a leading apostrophe makes it text. Numbers (a negative score) are not text: left alone.
    if isinstance(value, str) and (value[:1] in FORMULA_TRIGGERS or value.lstrip()[:1] in FORMULA_TRIGGERS):
        return "'" + value
    return "" if value is None else value


def to_csv(rows: list[dict]) -> str:
    """Rows (their keys in first-seen order: boards may differ in tiers) as CSV text."""
    buffer = io.StringIO()
    if rows:
        names = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n", restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return buffer.getvalue()


# ---- paper panel ----------------------------------------------------------------------------------------


PAPER_STANDARDS = {
    "GO_CC": "go_cc",
    "GO_BP_slim": "go_bp",
    "KEGG_pathways": "kegg",
    "protein_complexes_EMBL": "complex",
}
PAPER_METRICS = {"average_precision": "AP", "AMI": "AMI", "F_score": "F-score"}


def paper_values() -> dict:
    """The values read off the paper's figures: {methods, rows: [(metric, tier short name, [values])], ap}."""
    text = (resources.files("repbench") / "resources" / "paper" / "figure1_reported_values.csv").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines)
    methods = [m for m in reader.fieldnames if m not in ("metric", "standard", "source")]
    rows, ap = [], {}
    for r in reader:
        tier = PAPER_STANDARDS[r["standard"]]
        values = [float(r[m]) for m in methods]
        rows.append((PAPER_METRICS[r["metric"]], TIER_SHORT[tier], values))
        if r["metric"] == "average_precision":
            ap[tier] = values
    labels = {"PairedCellInpainting": "Paired Cell Inpainting", "CellProfiler_PCA": "CellProfiler (PCA)"}
    return {"methods": [labels.get(m, m) for m in methods], "rows": rows, "ap": ap}


# ---- pages ----------------------------------------------------------------------------------------------


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
    env.filters["rank"] = lambda v: "–" if v is None else (f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}")
    return env


def build_date() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for a reproducible build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)


def _provenance(entries: list[Entry], built: datetime) -> dict:
    evaluators = sorted({e.record["evaluator"]["version"] for e in entries})
    standards = sorted({(e.record["standards"]["version"], e.record["standards"]["manifest_sha256"]) for e in entries})
    return {
        "date": built.strftime("%Y-%m-%d %H:%M UTC"),
        "count": len(entries),
        "evaluators": evaluators,
        "standards": standards,
        "repbench": __version__,
    }


def _as_markup(page: figures.PageFigures) -> dict:
    """Our own matplotlib SVG is inserted as markup; everything from a record stays escaped text."""
    return {"svg": {k: Markup(v) if v else None for k, v in page.svg.items()}, "tsne_note": page.tsne_note}


def render_site(boards: list[Board], site: Path, pictures: dict[str, figures.PageFigures], built: datetime) -> None:
    """Write index.html, one page per submission, the downloads and the static files into ``site``."""
    env = _environment()
    entries = [e for board in boards for _, rows in board.sections for e in rows]
    provenance = _provenance(entries, built)
    common = {
        "tier_short": TIER_SHORT,
        "tier_titles": TIER_TITLES,
        "headline": HEADLINE,
        "metrics": METRICS,
        "metric_labels": METRIC_LABELS,
        "provenance": provenance,
        "overall": OVERALL,
        "label_titles": LABEL_TITLES,
        "mark_at": MARK_AT,
    }
    (site / "s").mkdir(parents=True)
    shutil.copytree(Path(str(resources.files("repbench.leaderboard") / "static")), site / "static")
    paper_png = resources.files("repbench") / "resources" / "paper" / "figure1b_average_precision.png"
    (site / "static" / "paper-figure1b.png").write_bytes(paper_png.read_bytes())

    index = env.get_template("index.html.j2").render(boards=boards, paper=paper_values(), root=".", **common)
    (site / "index.html").write_text(index, encoding="utf-8")
    rows = table_rows(boards)
    (site / "leaderboard.csv").write_text(to_csv(rows), encoding="utf-8")
    payload = {"built": built.isoformat(timespec="seconds"), "provenance": provenance, "rows": rows}
    (site / "leaderboard.json").write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")

    page = env.get_template("submission.html.j2")
    for board in boards:
        names = groups.group_names(board.version, board.tiers)
        for section, rows_ in board.sections:
            for entry in rows_:
                html = page.render(
                    entry=entry,
                    record=entry.record,
                    board=board,
                    section_title=SECTION_TITLES[entry.section],
                    section_id=board.section_id(section),
                    pictures=_as_markup(pictures[entry.slug]),
                    root="..",
                    groups=groups.page_groups(entry.record, board.tiers, names),
                    **common,
                )
                (site / "s" / f"{entry.slug}.html").write_text(html, encoding="utf-8")
