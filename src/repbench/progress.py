"""The one progress protocol of repbench: ``progress(stage, done, total)``.

Every slow step (reading cells, training an epoch, measuring cells, evaluating tiers, drawing the site's
pictures) reports through a plain callable::

    progress("deeploc epoch 1/3", 64, 1024)   # stage name, items done so far, items in all (None: unknown)

``done`` is absolute (not an increment), so a reporter may drop calls. A stage is finished when
``done == total``. The library and the plugin contract (``EmbedRequest.progress``) only ever see this
callable, never a rich object; the CLI turns it into a progress bar on a terminal and into plain lines on
stderr otherwise (:mod:`repbench.cli.common`).
"""

from __future__ import annotations

from typing import Callable, Optional

#: progress(stage, done, total): total None while unknown
Progress = Callable[[str, int, Optional[int]], None]


def silent(stage: str, done: int, total: int | None) -> None:
    """The progress callable that reports nothing (what ``None`` means everywhere)."""


def or_silent(progress: Progress | None) -> Progress:
    """``progress``, or :func:`silent` when it is None: callers then call it unconditionally."""
    return progress if progress is not None else silent


class Counter:
    """Counts one stage's items and reports the running total: ``step = Counter(progress, "cells", 100)``,
    then ``step(8)`` after each batch of 8 (reports ``(stage, done, total)``)."""

    def __init__(self, progress: Progress | None, stage: str, total: int | None = None):
        self.report, self.stage, self.total, self.done = or_silent(progress), stage, total, 0
        self.report(stage, 0, total)

    def __call__(self, count: int = 1) -> None:
        self.done += count
        self.report(self.stage, self.done, self.total)
