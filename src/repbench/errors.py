"""Domain errors with stable codes.

Every problem a user can fix is a :class:`RepbenchError` with a short stable ``code`` (documented in
docs/table-format.md; scripts may match on it), a one-line message that says what to fix, and optionally the
first few offending rows. The CLI prints it on one line and exits with ``exit_code`` (1 for bad input,
2 for a usage error); ``--debug`` shows the traceback.
"""

from __future__ import annotations

from typing import Sequence


class RepbenchError(ValueError):
    exit_code = 1

    def __init__(self, code: str, message: str, rows: Sequence[object] = (), path: object | None = None):
        self.code = code
        self.message = message
        self.rows = list(rows)[:5]
        self.path = None if path is None else str(path)
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.path}: " if self.path else ""
        rows = f" (first offending rows: {', '.join(map(str, self.rows))})" if self.rows else ""
        return f"[{self.code}] {where}{self.message}{rows}"

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "path": self.path, "rows": [str(r) for r in self.rows]}

    def __reduce__(self):  # survives the trip back from a worker process
        return (self.__class__, (self.code, self.message, self.rows, self.path))


class UsageError(RepbenchError):
    """A wrong command line (unknown tier, unknown embedder, conflicting flags): exit status 2."""

    exit_code = 2


#: top-level module -> (extra, what needs it): the optional dependencies of repbench
EXTRAS = {
    "matplotlib": ("site", "the leaderboard site"),
    "torch": ("torch", "the torch embedders (repbench.torch)"),
    "cp_measure": ("cellprofiler", "the cellprofiler embedders"),
    "playwright": ("browser", "the browser check of the site"),
}


class MissingExtra(RepbenchError):
    """An optional dependency is not installed: one line naming the extra that brings it (exit status 1)."""

    def __init__(self, module: str, extra: str, what: str):
        self.module, self.extra, self.what = module, extra, what
        super().__init__(
            "missing-extra",
            f"{what} needs the {extra!r} extra ({module} is not installed): pip install 'repbench[{extra}]'",
        )

    @classmethod
    def for_module(cls, name: str | None) -> "MissingExtra | None":
        """The error for a ModuleNotFoundError's ``name`` (``matplotlib.pyplot`` counts as ``matplotlib``), or
        None when that module is not an optional dependency of repbench."""
        top = (name or "").partition(".")[0]
        return cls(top, *EXTRAS[top]) if top in EXTRAS else None

    def __reduce__(self):
        return (self.__class__, (self.module, self.extra, self.what))


def require(module: str) -> None:
    """Import ``module`` (a key of :data:`EXTRAS`) or raise :class:`MissingExtra`; call it before the work
    that needs it, so the user learns at once (in every worker process too)."""
    import importlib

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = MissingExtra.for_module(error.name)
        if missing is None:
            raise
        raise missing from None
