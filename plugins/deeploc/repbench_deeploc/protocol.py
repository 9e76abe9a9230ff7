"""DeepLoc as a repbench embedder: train the localization classifier, embed test cells, average per protein.

Protocols (``--protocol``):

* ``quick`` (default): one learning rate (1e-3), one seed, 3 epochs of 1,024 training cells each (a
  new random subset of the train split every epoch), batch 32, validation loss on 300 val cells.
  Sized for the 10-minute budget of ``repbench run -e deeploc`` on the demo data on a 2-core CPU
  (docs/deeploc.md).
* ``paper``: 30 epochs over the whole train split, batch 128; the learning rate is chosen among
  1e-3, 6e-4, 3e-4, 1e-4, 5e-5 by the lowest validation loss (with the request's seed), then that rate
  is trained with 3 seeds (seed, seed+1, seed+2) and the run with the lowest validation loss is kept.

Either way every run keeps the epoch with the lowest validation loss (early stopping) and checkpoints
each epoch under ``out_dir/checkpoints/<lr, seed>/``, so a killed run resumes where it stopped.
Options (``--option KEY=VALUE``) override a protocol's ``epochs``, ``lr``, ``batch_size``,
``train_cells`` (per epoch, or ``all``), ``val_cells`` (or ``all``), ``seeds`` (how many seeds the
paper protocol trains; ``-o lr=X -o seeds=1`` is one cell of its grid, a job for ``repbench run-merge``,
docs/distributed.md), the runtime's ``precision`` and ``channels_last``, and ``untrained`` (true: the
untrained control, the same network and seed with no training step, docs/embedders.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from repbench.embedders import TORCH_RUNTIME_OPTIONS, EmbedRequest, Option, parse_options
from repbench.errors import UsageError

VERSION = "0.1.0"


@dataclass(frozen=True)
class Protocol:
    name: str
    epochs: int
    lrs: tuple[float, ...]
    seeds: int  # seeds trained at the chosen learning rate
    batch_size: int
    train_cells: int | None  # training cells per epoch; None: the whole train split
    val_cells: int | None = None  # validation cells (a fixed random subset, the same every epoch); None: all
    #: training cells (unaugmented) whose batch statistics replace the running ones after each epoch
    bn_cells: int = 256
    #: the untrained control: initial weights, batch norm recalibrated on training cells, no optimizer step
    untrained: bool = False


PROTOCOLS = {
    "quick": Protocol("quick", epochs=3, lrs=(1e-3,), seeds=1, batch_size=32, train_cells=1024, val_cells=300),
    "paper": Protocol(
        "paper", epochs=30, lrs=(1e-3, 6e-4, 3e-4, 1e-4, 5e-5), seeds=3, batch_size=128, train_cells=None
    ),
}
EVAL_BATCH = 256


#: the cell-budget options of a cell classifier trained by DeepLocRun (DeepLoc, and PIFiA which subclasses it)
CLASSIFIER_OPTIONS = (
    Option("batch_size", int, None, "training batch size (default: the protocol's)", positive=True),
    Option(
        "train_cells",
        int,
        None,
        "training cells per epoch, or all (default: the protocol's)",
        positive=True,
        words={"all": None},
    ),
    Option(
        "val_cells", int, None, "validation cells, or all (default: the protocol's)", positive=True, words={"all": None}
    ),
    Option("bn_cells", int, None, "cells for the batch-norm recalibration (default: the protocol's)", positive=True),
    Option("untrained", bool, False, "the untrained control: initial weights, no training step"),
)

#: ``--option KEY=VALUE``: checked and typed by the core (repbench.embedders.check_options)
OPTIONS = (
    Option("epochs", int, None, "epochs per run (default: the protocol's)", positive=True),
    Option("lr", float, None, "one learning rate instead of the protocol's (grid)", positive=True),
    Option("seeds", int, None, "seeds trained at the chosen rate (default: the protocol's)", positive=True),
    *CLASSIFIER_OPTIONS,
    *TORCH_RUNTIME_OPTIONS,
)


def protocol_for(request: EmbedRequest) -> Protocol:
    """The request's protocol with its ``--option`` overrides applied (bad values: a usage error)."""
    if request.protocol not in PROTOCOLS:
        raise UsageError("bad-protocol", f"--protocol {request.protocol}: expected one of {', '.join(PROTOCOLS)}")
    base, options = PROTOCOLS[request.protocol], parse_options("deeploc", OPTIONS, request.options)
    fields = ("epochs", "batch_size", "train_cells", "val_cells", "seeds", "bn_cells", "untrained")
    overrides = {key: options[key] for key in fields if key in options}
    if "lr" in options:
        overrides["lrs"] = (float(options["lr"]),)
    return replace(base, **overrides)
