"""Build the static leaderboard site from submission records: the four steps, in one place.

    collect.py  records -> checked entries (a bad record is reported and skipped), board and section of each
    rank.py     per board and section: best values, rank intervals and "indistinguishable from the leader"
    figures.py  the pictures of every page (cached; misses drawn in worker processes)
    render.py   Jinja2 pages (autoescaped) + CSV/JSON downloads, into a temporary folder next to --out
    swap.py     the new site swapped in for the old one (a killed build leaves the old site whole)

The site has no external references: CSS, JS and pictures are local files or inline SVG.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import RepbenchError
from . import figures
from .collect import Entry, board_tiers, boards, collect
from .overlap import localization_overlap, overlap_for
from .rank import query_aps, sectioned
from .render import Board, build_date, render_site
from .swap import swap_in


@dataclass
class BuildReport:
    out: Path
    entries: list[Entry]
    skipped: list[tuple[Path, str]]  # (file, problem)
    seconds: float = 0.0
    boards: list[Board] | None = None


def default_cache(out: Path) -> Path:
    return Path(os.environ["REPBENCH_CACHE"]) if os.environ.get("REPBENCH_CACHE") else out / ".cache"


def _figure_job(entry: Entry) -> figures.FigureJob:
    name = entry.submission.get("embedding_file")
    return figures.FigureJob(
        slug=entry.slug,
        input_sha256=entry.record["input"]["sha256"],
        tiers=entry.record["tiers"],
        trajectory=entry.record.get("trajectory") or None,
        embedding_path=entry.path.parent / name if name else None,
    )


def make_boards(entries: list[Entry], cache: Path) -> list[Board]:
    """One board per standard set, its sections ranked; each row's label overlap per tier."""
    out = []
    for version, rows in boards(entries).items():
        for entry in rows:
            entry.overlap = overlap_for(entry.labels, version)
        tiers = board_tiers(rows)
        out.append(
            Board(
                version,
                tiers,
                sectioned(rows, tiers, lambda e: query_aps(e, cache), cache),
                localization_overlap(version),
            )
        )
    return out


def build_site(
    submissions: Path,
    out: Path,
    cache: Path | None = None,
    workers: int = 1,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> BuildReport:
    """Build the site from ``submissions`` into ``out`` atomically; see the module docstring.

    ``on_progress(stage, done, total)`` is called as pages' pictures are ready. With ``workers > 1`` missing
    pictures are drawn in spawned processes, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    started = time.perf_counter()
    submissions, out = Path(submissions), Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise RepbenchError("out-not-a-site", "--out is a file, not a folder", path=out)
    entries, skipped = collect(submissions)
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
    boards_ = make_boards(entries, cache)

    out.parent.mkdir(parents=True, exist_ok=True)
    site = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        render_site(boards_, site, pictures, build_date())
        if default and cache.is_dir() and cache.parent == out:  # the cache lives in the site: carry it over
            os.rename(cache, site / ".cache")
        os.chmod(site, 0o755)
        swap_in(site, out)
    except BaseException:
        shutil.rmtree(site, ignore_errors=True)
        raise
    return BuildReport(out, entries, skipped, time.perf_counter() - started, boards_)
