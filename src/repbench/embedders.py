"""What an embedder is: the contract between the core and every embedder plugin.

An embedder turns a set of single cells (or, for reference baselines, nothing at all) into one vector
per protein. Plugins register objects that satisfy :class:`Embedder` through the ``register_embedders``
hook (see :mod:`repbench.hookspecs`); ``repbench run`` builds an :class:`EmbedRequest`, calls
``embed`` and writes, evaluates and records what comes back.

Options: an embedder declares what ``--option KEY=VALUE`` it takes as a tuple of :class:`Option` (its
``options`` attribute); the core checks every given option against it before ``embed`` is called
(:func:`check_options`: an unknown key or a bad value is a usage error, exit 2, that lists the valid
options) and hands the embedder typed values in ``EmbedRequest.options``. ``repbench plugins --options
NAME`` prints the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

import numpy as np

from .errors import UsageError
from .progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    from .data import CellSet

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class Option:
    """One ``--option NAME=VALUE`` of an embedder.

    ``type``: int, float, bool, str or Path. ``default``: the value when the option is not given (``None``:
    the embedder decides, e.g. from its protocol; say how in ``help``). ``choices``: the allowed strings
    (str only). ``positive``: numbers must be > 0. ``words``: strings that stand for a value besides the
    type's own, e.g. ``{"all": None}`` for "every cell".
    """

    name: str
    type: type
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    positive: bool = False
    words: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The accepted values in words: ``int > 0 | all``, ``one of fp32|bf16``, ``bool``."""
        if self.choices:
            text = "one of " + "|".join(self.choices)
        else:
            text = {int: "int", float: "float", bool: "true|false", Path: "path"}.get(self.type, "text")
            text += " > 0" if self.positive else ""
        return " | ".join([text, *self.words])

    def parse(self, raw: Any) -> Any:
        """The typed value of ``raw`` (a string from the command line, or already a value of the type)."""
        if isinstance(raw, str) and raw.strip().lower() in self.words:
            return self.words[raw.strip().lower()]
        if not isinstance(raw, str) and any(raw is word for word in self.words.values()):
            return raw  # already parsed (parse is idempotent: a plugin may check again)
        value = self._convert(raw)
        if self.choices and value not in self.choices:
            value = None
        elif value is not None and self.positive and not value > 0:
            value = None
        if value is None:
            raise UsageError(
                "bad-option",
                f"--option {self.name}={raw}: expected {self.kind} ({self.help})"
                if self.help
                else f"--option {self.name}={raw}: expected {self.kind}",
            )
        return value

    def _convert(self, raw: Any) -> Any:
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            return True if text in _TRUE else False if text in _FALSE else None
        if isinstance(raw, bool):  # bool is an int in Python; never take True for 1
            return None
        try:
            if self.type is int:
                number = float(raw) if isinstance(raw, float) else None
                return int(raw) if number is None else (int(number) if number.is_integer() else None)
            if self.type is float:
                number = float(raw)
                return number if np.isfinite(number) else None
        except (TypeError, ValueError):
            return None
        text = str(raw)
        if not text.strip():
            return None
        return Path(text) if self.type is Path else text

    def describe(self) -> dict:
        """JSON-ready: name, type, default, help (what ``repbench plugins --options`` shows)."""
        default = (
            self.default
            if self.default is None or isinstance(self.default, (bool, int, float, str))
            else str(self.default)
        )
        return {"name": self.name, "type": self.kind, "default": default, "help": self.help}


#: the options every embedder on :mod:`repbench.torch` takes (its runtime: docs/deeploc.md)
TORCH_RUNTIME_OPTIONS = (
    Option(
        "precision",
        str,
        None,
        "fp32 or bf16 autocast (default: bf16 where the device computes it natively)",
        choices=("fp32", "bf16"),
    ),
    Option("channels_last", bool, True, "NHWC memory layout for convolutions"),
)


def declared_options(embedder: Any) -> tuple[Option, ...] | None:
    """The embedder's declared options, or None when it declares none (an older plugin)."""
    options = getattr(embedder, "options", None)
    return None if options is None else tuple(options)


def _listing(declared: tuple[Option, ...]) -> str:
    if not declared:
        return "it takes no options"
    shown = [f"{o.name} ({o.kind}, default {'-' if o.default is None else o.default})" for o in declared]
    return "valid options: " + ", ".join(shown)


def check_options(embedder: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``given`` (``{"epochs": "3"}`` from ``--option``) against the embedder's declaration.

    Returns the typed values of the given keys only (an embedder applies its own defaults). An unknown key
    or a bad value raises :class:`UsageError` (exit 2) naming it and listing the valid options with their
    types and defaults. An embedder that declares no ``options`` (an older plugin) gets ``given`` as it is.
    """
    declared = declared_options(embedder)
    if declared is None:
        return dict(given)
    return parse_options(getattr(embedder, "name", "?"), declared, given)


def parse_options(name: str, declared: tuple[Option, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`check_options` for a declaration (idempotent: typed values pass again unchanged)."""
    by_name = {o.name: o for o in declared}
    unknown = [key for key in given if key not in by_name]
    if unknown:
        raise UsageError(
            "unknown-option",
            f"embedder {name!r} has no option {', '.join(map(repr, unknown))}; {_listing(tuple(declared))}",
        )
    return {key: by_name[key].parse(value) for key, value in given.items()}


@dataclass
class Embedding:
    """One vector per protein: ``vectors[i]`` belongs to ``proteins[i]``; shape (n_proteins, dim)."""

    proteins: list[str]
    vectors: np.ndarray
    #: carried into the Parquet ``repbench`` metadata (protocol, seed, learning rate, ...)
    params: dict[str, Any] = field(default_factory=dict)
    #: the data set the vectors describe (``real``, ``synthetic``, ``unknown``), for embedders that take no cells
    #: (a baseline drawn for another table's proteins inherits that table's); None: the cells' data set decides
    dataset: str | None = None


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
    #: the given ``--option`` values, typed and checked against the embedder's ``options`` declaration
    options: dict[str, Any] = field(default_factory=dict)
    on_epoch: Callable[[EpochReport], None] | None = None
    #: ``progress(stage, done, total)`` (:mod:`repbench.progress`), or None when nobody watches
    progress: Progress | None = None


def protein_means(proteins: np.ndarray, vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Average the cell vectors of each protein: what most embedders return as their :class:`Embedding`.

    ``proteins`` (n,): the protein of each cell; ``vectors`` (n, d): the cells' vectors. Returns (the protein
    names in order of first appearance (p,), their means (p, d) float32), summed in float64 so that a mean
    does not depend on how many cells a protein has or in which order they come."""
    import pandas as pd

    codes, names = pd.factorize(pd.Series(np.asarray(proteins, dtype=object)), sort=False)
    sums = np.zeros((len(names), vectors.shape[1]), np.float64)
    np.add.at(sums, codes, vectors)
    counts = np.bincount(codes, minlength=len(names)).astype(np.float64)
    return [str(n) for n in names], (sums / counts[:, None]).astype(np.float32)


#: what an embedder may declare it was trained with (``Embedder.labels``); the site marks the tiers whose groups
#: overlap them (docs/leaderboard.md, "Label overlap")
LABEL_KINDS = ("localization", "protein-identity")


@runtime_checkable
class Embedder(Protocol):
    name: str
    description: str
    version: str
    requires_cells: bool
    # optional: ``options: tuple[Option, ...]`` (see check_options); not part of the structural check so
    # that older plugins still load
    # optional: ``labels: tuple[str, ...]``, the labels its training used (kinds of LABEL_KINDS; () for none).
    # Not part of the structural check, so older plugins still load; without it a record says "not declared".

    def embed(self, request: EmbedRequest) -> Embedding: ...


from . import _make_callable  # noqa: E402  (repbench.embedders() is also the API function)

_make_callable(__import__("sys").modules[__name__])
