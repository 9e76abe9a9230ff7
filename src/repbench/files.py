"""The one atomic write and the one sha256 of files in repbench (imports nothing else of repbench).

``write_atomic`` writes a file so that a reader, or a kill at any moment, sees either the old file or the
complete new one: a temp file in the same folder (mode 0666 minus the umask, like any new file), written,
flushed and fsynced, then renamed over the target; on any error the temp file is removed.
``results.write_json_atomic`` is the JSON form. Folders that appear whole (shards, the site) are built
as ``NAME.tmp`` and renamed by their own code.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(
    path: str | Path, data: bytes | str | None = None, *, write: Callable[[Path], None] | None = None
) -> Path:
    """Write ``data``, or call ``write(temp_path)`` (which writes the file there, e.g. ``pq.write_table``),
    then fsync and rename onto ``path``. Exactly one of ``data`` and ``write``."""
    if (data is None) == (write is None):
        raise TypeError("write_atomic takes data or write=, not both")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a published file must be readable
        if data is not None:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode() if isinstance(data, str) else data)
        else:
            os.close(fd)
            write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """``payload`` as indented JSON (NaN refused), atomically."""
    return write_atomic(path, json.dumps(payload, indent=2, allow_nan=False, default=str) + "\n")


def file_sha256(path: str | Path) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
