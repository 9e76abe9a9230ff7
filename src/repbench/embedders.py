"""What an embedder is: the contract between the core and every embedder plugin.

An embedder turns a set of single cells (or, for reference baselines, nothing at all) into one vector
per protein. Plugins register objects that satisfy :class:`Embedder` through the ``register_embedders``
hook (see :mod:`repbench.hookspecs`); ``repbench run`` builds an :class:`EmbedRequest`, calls
``embed`` and writes, evaluates and records what comes back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .data import CellSet


@dataclass
class Embedding:
    """One vector per protein: ``vectors[i]`` belongs to ``proteins[i]``; shape (n_proteins, dim)."""

    proteins: list[str]
    vectors: np.ndarray
    #: carried into the Parquet ``repbench`` metadata (protocol, seed, learning rate, ...)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class EpochReport:
    """Handed to ``EmbedRequest.on_epoch`` after each training epoch (test-split protein vectors)."""

    epoch: int
    embedding: Embedding
    logs: dict[str, float] = field(default_factory=dict)  # train_loss, val_loss, lr, ...


@dataclass
class EmbedRequest:
    cells: "CellSet | None"  # None only for embedders with requires_cells = False
    out_dir: Path  # the run folder: checkpoints and other files the embedder keeps
    protocol: str = "quick"  # "quick" | "paper"
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    seed: int = 0
    options: dict[str, str] = field(default_factory=dict)  # embedder-specific, from --option KEY=VALUE
    on_epoch: Callable[[EpochReport], None] | None = None
    progress: Any = None  # a rich.progress.Progress, or None when quiet


@runtime_checkable
class Embedder(Protocol):
    name: str
    description: str
    version: str
    requires_cells: bool

    def embed(self, request: EmbedRequest) -> Embedding: ...
