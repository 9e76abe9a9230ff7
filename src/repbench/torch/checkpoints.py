"""Per-epoch checkpoints: ``<dir>/epoch-NNN.pt``, the newest kept, written atomically.

A checkpoint holds only tensors and plain Python values (the RNG states included, see
:mod:`repbench.torch.seeding`), so it loads with ``torch.load(path, weights_only=True)``: opening a
checkpoint never runs code from the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ..errors import RepbenchError
from ..files import write_atomic

FORMAT = 1
_NAME = re.compile(r"epoch-(\d{3,})\.pt$")


class CheckpointDir:
    def __init__(self, path: Path):
        self.path = Path(path)

    def path_of(self, epoch: int) -> Path:
        return self.path / f"epoch-{epoch:03d}.pt"

    def epochs(self) -> list[int]:
        """Epochs with a checkpoint on disk, ascending (temp files of an interrupted write are ignored)."""
        if not self.path.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.path.iterdir() if (m := _NAME.match(p.name)))

    def save(self, epoch: int, state: dict) -> Path:
        """Write ``state`` as the checkpoint of ``epoch`` (temp name, then rename), then drop older ones."""
        final = self.path_of(epoch)
        write_atomic(final, write=lambda temp: torch.save({"format": FORMAT, "epoch": epoch, **state}, temp))
        for old in self.epochs():
            if old < epoch:
                self.path_of(old).unlink(missing_ok=True)
        return final

    def load_latest(self, map_location="cpu", mmap: bool = False) -> dict | None:
        """The newest checkpoint, or None when there is none. ``mmap=True``: tensors are mapped from the
        file, not read (cheap when only a few plain values are wanted)."""
        epochs = self.epochs()
        if not epochs:
            return None
        path = self.path_of(epochs[-1])
        try:
            state = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
        except Exception as error:  # truncated or foreign file: say which, do not guess
            raise RepbenchError(
                "checkpoint-unreadable", f"cannot read checkpoint ({error}); delete it to start over", path=path
            ) from error
        if state.get("format") != FORMAT:
            raise RepbenchError(
                "checkpoint-unreadable", f"checkpoint format {state.get('format')!r}, expected {FORMAT}", path=path
            )
        return state
