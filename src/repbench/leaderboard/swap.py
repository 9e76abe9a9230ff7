"""Step 4 of the build: put the finished site in place of the old one atomically.

The pages are written into a temporary folder next to ``--out``; :func:`swap_in` replaces ``--out`` by it in
one rename (Linux ``renameat2(RENAME_EXCHANGE)``, else two renames), so a killed or failed build leaves the
previous site whole. A folder that is not a site built before is never replaced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import RepbenchError


def swap_in(site: Path, out: Path) -> None:
    """Replace ``out`` by ``site``; until the last rename the old site stays whole."""
    if not out.exists():
        os.rename(site, out)
        return
    if not (out / "index.html").is_file() and any(p.name != ".cache" for p in out.iterdir()):
        raise RepbenchError(
            "out-not-a-site", "--out exists and is not a leaderboard site; refusing to replace it", path=out
        )
    if exchange(site, out):  # one atomic step: no moment without a whole site at ``out``
        shutil.rmtree(site, ignore_errors=True)  # ``site`` now holds the old one
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, retired / "site")
    os.rename(site, out)
    shutil.rmtree(retired, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
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
