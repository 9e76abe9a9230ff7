"""The pictures of every submission page, cached so that a rebuild redraws only what changed.

Cache layout (``<out>/.cache`` by default, or ``$REPBENCH_CACHE``)::

    tsne/<input sha256>-<params>.npz     t-SNE coordinates (n, 2) and the proteins' ORFs (n,)
    figures/<kind>-<key>.svg             a drawn picture; key = sha256 of everything it is drawn from

A picture's key covers the plotting code's version and its inputs, so a stale picture is never reused; the
expensive t-SNE is keyed by the embedding file's sha256 (``input.sha256`` of the record). Misses are drawn in
worker processes (``jobs``); each picture depends only on its own inputs, so the site is the same for any
number of workers.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..files import write_atomic
from .localization import huh_localizations

# Bump PLOT_VERSION when a picture in plots.py changes, TSNE_KEY when plots.TSNE_PARAMS change. Kept here, not in
# plots.py, so that a warm build never imports matplotlib.
PLOT_VERSION = "2"
TSNE_KEY = "p40-rs0-pca50-v1"
KINDS = ("pr", "trajectory", "tsne")


@dataclass
class FigureJob:
    """What one submission page needs drawn. ``embedding_path`` is None when the record names no file."""

    slug: str
    input_sha256: str
    tiers: dict
    trajectory: list | None
    embedding_path: Path | None
    keys: dict[str, str] = field(default_factory=dict)


@dataclass
class PageFigures:
    """Inline SVG per kind (None: not drawn) and a sentence for the reader when the t-SNE map is missing."""

    svg: dict[str, str | None] = field(default_factory=dict)
    tsne_note: str | None = None


def _digest(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


def plan(job: FigureJob) -> FigureJob:
    """Fill in the cache key of every picture the page needs."""
    pr_input = {t: {k: (b or {}).get(k) for k in ("pr_curve", "prevalence", "skipped")} for t, b in job.tiers.items()}
    job.keys["pr"] = _digest(["pr", PLOT_VERSION, pr_input])
    if job.trajectory:
        job.keys["trajectory"] = _digest(["trajectory", PLOT_VERSION, job.trajectory])
    if job.embedding_path is not None:
        job.keys["tsne"] = _digest(["tsne", PLOT_VERSION, TSNE_KEY, job.input_sha256])
    return job


def _figure_path(cache: Path, kind: str, key: str) -> Path:
    return cache / "figures" / f"{kind}-{key}.svg"


def _write_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, data)  # the project's one atomic write (repbench.files)


def _missing_note(job: FigureJob) -> str | None:
    if job.embedding_path is None:
        return "This submission came without its embedding table, so there is no t-SNE map."
    if not job.embedding_path.is_file():
        return f"The embedding table {job.embedding_path.name} named by this record is not next to it; no t-SNE map."
    return None


def _from_cache(job: FigureJob, cache: Path) -> PageFigures | None:
    """The page's pictures if every one of them is cached, else None."""
    page = PageFigures(svg={kind: None for kind in KINDS}, tsne_note=_missing_note(job))
    for kind, key in job.keys.items():
        if kind == "tsne" and page.tsne_note:
            continue
        path = _figure_path(cache, kind, key)
        if not path.is_file():
            return None
        page.svg[kind] = path.read_text()
    return page


# ---- drawing (in worker processes) ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _standards():
    from .. import standards

    return standards.load()


def kde_terms() -> list[tuple[str, str, tuple[str, ...]]]:
    from .plots import KDE_TERMS

    tier = _standards().tiers["go_bp"]
    return [(g, tier.group_names[g], tier.groups[g]) for g in KDE_TERMS if g in tier.groups]


def _tsne_map(job: FigureJob, cache: Path) -> tuple[np.ndarray, list[str]] | str:
    """(coords (n, 2), ORFs (n,)) from the cache or computed, or a sentence saying why there is no map."""
    from . import plots

    cached = cache / "tsne" / f"{job.input_sha256}-{TSNE_KEY}.npz"
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as npz:
            return npz["coords"], [str(o) for o in npz["orfs"]]
    from ..table import file_sha256, read_table

    if file_sha256(job.embedding_path) != job.input_sha256:
        return (
            f"The embedding table {job.embedding_path.name} does not match the input sha256 in this record, "
            "so it is not shown."
        )
    try:  # every layout the evaluator accepts, read and mapped to ORFs exactly as the evaluator reads it
        table = read_table(job.embedding_path, _standards())
    except Exception as error:  # a broken table is the submitter's problem, not the site's
        why = getattr(error, "code", None) or type(error).__name__
        return f"The embedding table {job.embedding_path.name} could not be read ({why}); no t-SNE map."
    coords = plots.tsne_coordinates(table.vectors.astype(np.float32))
    kept = list(table.proteins)
    buffer = io.BytesIO()
    np.savez(buffer, coords=coords.astype(np.float32), orfs=np.asarray(kept, dtype=str))
    _write_atomic(cached, buffer.getvalue())
    return coords, kept


def draw(job: FigureJob, cache: Path, threads: int | None = None) -> PageFigures:
    """Draw (or read from the cache) every picture of one page; the drawn ones are cached."""
    from threadpoolctl import threadpool_limits

    from . import plots

    page = PageFigures(svg={kind: None for kind in KINDS}, tsne_note=_missing_note(job))
    with threadpool_limits(limits=threads):
        for kind, key in job.keys.items():
            path = _figure_path(cache, kind, key)
            if kind == "tsne" and page.tsne_note:
                continue
            if path.is_file():
                page.svg[kind] = path.read_text()
                continue
            if kind == "pr":
                svg = plots.pr_curves_svg(job.tiers)
            elif kind == "trajectory":
                svg = plots.trajectory_svg(job.trajectory)
            else:
                result = _tsne_map(job, cache)
                if isinstance(result, str):  # not cached: the file may be fixed before the next build
                    page.tsne_note = result
                    continue
                svg = plots.tsne_svg(result[0], result[1], huh_localizations(), kde_terms())
            _write_atomic(path, svg.encode())
            page.svg[kind] = svg
    return page


def _draw_in_worker(job: FigureJob, cache: Path, threads: int) -> tuple[str, PageFigures]:
    return job.slug, draw(job, cache, threads)


def all_figures(
    jobs: list[FigureJob], cache: Path, workers: int = 1, on_done: Callable[[str], None] | None = None
) -> dict[str, PageFigures]:
    """slug -> PageFigures for every job; cache hits are read here, misses drawn by ``workers`` processes."""
    done: dict[str, PageFigures] = {}
    misses = []
    for job in map(plan, jobs):
        page = _from_cache(job, cache)
        if page is None:
            misses.append(job)
        else:
            done[job.slug] = page
            if on_done:
                on_done(job.slug)
    workers = max(1, min(workers, len(misses)))
    if workers == 1:
        for job in misses:
            done[job.slug] = draw(job, cache)
            if on_done:
                on_done(job.slug)
        return done
    import multiprocessing

    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_draw_in_worker, job, cache, threads) for job in misses]
        for future in as_completed(futures):
            slug, page = future.result()
            done[slug] = page
            if on_done:
                on_done(slug)
    return done
