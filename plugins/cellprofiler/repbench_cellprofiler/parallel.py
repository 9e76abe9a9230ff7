"""Measuring many cells: chunks of crops measured across worker processes, results in cell order.

The parent reads each chunk's crops from the CellSet (a CellSet need not be picklable) and sends the arrays
to a ``ProcessPoolExecutor``; at most ``4 * workers`` chunks are in flight, so memory stays bounded for a
screen of millions of cells. Results are written by chunk position, so the output does not depend on which
worker finishes first.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from repbench.progress import Counter

from .features import EMPTY_MASK, FAILED, feature_names, measure_crops, set_costes

DEFAULT_CHUNK = 16  # cells per mosaic: enough to spread cp-measure's per-call cost, small enough to balance


@dataclass
class CellFeatures:
    """Per-cell measurements: ``values[i]`` (float32, NaN when not measured) belongs to ``cell_ids[i]``."""

    cell_ids: np.ndarray  # (n,) int64
    names: list[str]  # (F,)
    values: np.ndarray  # (n, F) float32
    status: np.ndarray  # (n,) int8: features.OK / EMPTY_MASK / FAILED

    @property
    def empty_masks(self) -> int:
        return int((self.status == EMPTY_MASK).sum())

    @property
    def failed(self) -> int:
        return int((self.status == FAILED).sum())


def _init_worker(costes: bool) -> None:
    # One process per core already; BLAS threads inside each would only fight over the same cores.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    set_costes(costes)


def _measure_chunk(crops: np.ndarray, costes: bool) -> tuple[np.ndarray, np.ndarray]:
    set_costes(costes)
    _, values, status = measure_crops(crops)
    return values, status


def measure_cells(
    cells,
    cell_ids: np.ndarray,
    *,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    costes: bool = False,
    progress=None,
    label: str = "cellprofiler: cells",
) -> CellFeatures:
    """Measure the given cells of a CellSet; ``workers`` processes (default ``os.cpu_count()``; 1: in this one).

    ``progress(stage, done, total)`` (repbench.progress, or None) counts the cells measured.
    """
    cell_ids = np.asarray(cell_ids, dtype=np.int64)
    workers = max(1, os.cpu_count() or 1) if workers is None else max(1, int(workers))
    set_costes(costes)
    names = feature_names()
    values = np.full((len(cell_ids), len(names)), np.nan, dtype=np.float32)
    status = np.zeros(len(cell_ids), dtype=np.int8)
    starts = range(0, len(cell_ids), chunk)
    step = Counter(progress, label, len(cell_ids))

    def store(start: int, result: tuple[np.ndarray, np.ndarray]) -> None:
        chunk_values, chunk_status = result
        values[start : start + len(chunk_status)] = chunk_values
        status[start : start + len(chunk_status)] = chunk_status
        step(len(chunk_status))

    if workers == 1 or len(starts) < 2:
        for start in starts:
            store(start, _measure_chunk(cells.read(cell_ids[start : start + chunk]), costes))
    else:
        # fork where there is one: workers start in milliseconds and callers need no ``if __name__ ==
        # "__main__"`` guard. The workers only run numpy/scipy code, never the parent's other threads
        # (the progress bar's), so forking a threaded parent is safe here.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(costes,)
        ) as pool:
            pending: deque = deque()
            try:
                for start in starts:
                    crops = cells.read(cell_ids[start : start + chunk])
                    pending.append((start, pool.submit(_measure_chunk, crops, costes)))
                    if len(pending) >= 4 * workers:
                        done_start, future = pending.popleft()
                        store(done_start, future.result())
                while pending:
                    done_start, future = pending.popleft()
                    store(done_start, future.result())
            except BaseException:  # Ctrl-C or a failed chunk: do not wait for the chunks still queued
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return CellFeatures(cell_ids, names, values, status)
