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
docs/distributed.md), and the runtime's ``precision`` and ``channels_last``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from repbench.embedders import EmbedRequest, Embedding, EpochReport
from repbench.errors import RepbenchError, UsageError

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


PROTOCOLS = {
    "quick": Protocol("quick", epochs=3, lrs=(1e-3,), seeds=1, batch_size=32, train_cells=1024,
                      val_cells=300),
    "paper": Protocol("paper", epochs=30, lrs=(1e-3, 6e-4, 3e-4, 1e-4, 5e-5), seeds=3, batch_size=128,
                      train_cells=None),
}
EVAL_BATCH = 256


def _positive_int(options: dict, key: str, default):
    value = options.get(key)
    if value is None:
        return default
    if key in ("train_cells", "val_cells") and value == "all":
        return None
    try:
        number = int(value)
        if number < 1:
            raise ValueError
    except ValueError:
        raise UsageError("bad-option", f"--option {key}={value}: expected a positive integer") from None
    return number


def protocol_for(request: EmbedRequest) -> Protocol:
    if request.protocol not in PROTOCOLS:
        raise UsageError("bad-protocol", f"--protocol {request.protocol}: expected one of {', '.join(PROTOCOLS)}")
    base, options = PROTOCOLS[request.protocol], request.options
    lrs = base.lrs
    if "lr" in options:
        try:
            lrs = (float(options["lr"]),)
            if not lrs[0] > 0:
                raise ValueError
        except ValueError:
            raise UsageError("bad-option", f"--option lr={options['lr']}: expected a positive number") from None
    return replace(base, lrs=lrs, epochs=_positive_int(options, "epochs", base.epochs),
                   batch_size=_positive_int(options, "batch_size", base.batch_size),
                   train_cells=_positive_int(options, "train_cells", base.train_cells),
                   val_cells=_positive_int(options, "val_cells", base.val_cells),
                   seeds=_positive_int(options, "seeds", base.seeds),
                   bn_cells=_positive_int(options, "bn_cells", base.bn_cells))


class DeepLocEmbedder:
    name = "deeploc"
    description = "DeepLoc CNN trained to classify localization; last hidden layer (512) averaged per protein"
    version = VERSION
    requires_cells = True

    def embed(self, request: EmbedRequest) -> Embedding:
        from .training import embed_with_deeploc  # torch is imported only here

        if request.cells is None:
            raise UsageError("cells-required", "deeploc trains on single cells: give --data")
        return embed_with_deeploc(request, protocol_for(request))
