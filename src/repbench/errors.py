"""Domain errors with stable codes.

Every problem a user can fix is a :class:`RepbenchError` with a short stable ``code`` (documented in
docs/table-format.md; scripts may match on it), a one-line message that says what to fix, and optionally the
first few offending rows. The CLI prints it on one line and exits with ``exit_code`` (1 for bad input,
2 for a usage error); ``--debug`` shows the traceback.
"""
from __future__ import annotations

from typing import Sequence


class RepbenchError(Exception):
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


class UsageError(RepbenchError):
    """A wrong command line (unknown tier, unknown embedder, conflicting flags): exit status 2."""

    exit_code = 2
