"""PIFiA as a repbench embedder: train a CNN to tell proteins apart (one class per protein), read its
last hidden layer for every test-split cell, average per protein.

PIFiA (Razdaibiedina et al., Mol Syst Biol 2024) needs no localization labels: the class of a cell is
the protein it shows. The network and settings follow the authors' code (github.com/arazd/pifia,
``model/models.py`` ``pifia_network`` and the training command of their README); see docs/embedders.md.

Protocols (``--protocol``):

* ``quick`` (default): the network at half the published width, 4 epochs of 2,048 training cells
  each (a new random subset of the train split every epoch), batch 64, Adam from 1e-3 with cosine
  decay to 0, validation loss on 300 val cells. Sized to cost no more than DeepLoc's quick run on the
  demo data on a 2-core CPU.
* ``paper``: the published network (width 1), 30 epochs over the whole train split, batch 128, Adam from
  3e-4 with cosine decay, dropout 0.02 (the authors' training command).

Either way the epoch with the lowest validation loss (protein-identity cross-entropy on held-out cells of
the same proteins) is kept, and every epoch is checkpointed under ``out_dir/checkpoints/<run>/``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from repbench.embedders import EmbedRequest, Embedding, bool_option
from repbench.errors import UsageError

VERSION = "0.1.0"


@dataclass(frozen=True)
class Protocol:
    name: str
    epochs: int
    lr: float  # initial learning rate; cosine decay to 0 over all steps of the run
    batch_size: int
    train_cells: int | None  # training cells per epoch; None: the whole train split
    val_cells: int | None  # validation cells (a fixed random subset); None: all
    width: float  # channel multiplier of the convolutions; 1.0 = published
    dropout: float = 0.02  # before the classifier, as in the authors' command
    dense1: int = 128  # first fully connected layer
    features: int = 64  # last hidden layer: the representation
    rfp: bool = False  # the authors train on the GFP channel alone (--use_rfp off)
    bn_cells: int = 256  # training cells whose batch statistics replace the running ones after each epoch
    untrained: bool = False  # the untrained control: initial weights, no optimizer step


PROTOCOLS = {
    "quick": Protocol("quick", epochs=4, lr=1e-3, batch_size=64, train_cells=2048, val_cells=300, width=0.5),
    "paper": Protocol("paper", epochs=30, lr=3e-4, batch_size=128, train_cells=None, val_cells=None, width=1.0),
}


def _count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError
    return number


def _count_or_all(value: str) -> int | None:
    return None if value == "all" else _count(value)


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError
    return number


def _fraction(value: str) -> float:
    number = float(value)
    if not 0 <= number < 1:
        raise ValueError
    return number


#: ``--option KEY=VALUE``: (parser, what it expects); each overrides the protocol field of that name.
#: ``precision`` and ``channels_last`` are the runtime's (checked by ``repbench.torch.choose_runtime``).
OPTIONS = {
    "epochs": (_count, "a positive integer"),
    "lr": (_positive, "a positive number"),
    "batch_size": (_count, "a positive integer"),
    "train_cells": (_count_or_all, "a positive integer or 'all'"),
    "val_cells": (_count_or_all, "a positive integer or 'all'"),
    "width": (_positive, "a positive number"),
    "dropout": (_fraction, "a number in [0, 1)"),
    "bn_cells": (_count, "a positive integer"),
    "rfp": (None, "true or false"),
    "untrained": (None, "true or false"),
}
RUNTIME_OPTIONS = ("precision", "channels_last")


def protocol_for(request: EmbedRequest) -> Protocol:
    """The request's protocol with its ``--option`` overrides applied (bad values: a usage error)."""
    if request.protocol not in PROTOCOLS:
        raise UsageError("bad-protocol", f"--protocol {request.protocol}: expected one of {', '.join(PROTOCOLS)}")
    options = request.options
    unknown = sorted(set(options) - set(OPTIONS) - set(RUNTIME_OPTIONS))
    if unknown:
        raise UsageError("unknown-option", f"embedder 'pifia' has no option {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join([*OPTIONS, *RUNTIME_OPTIONS])}")
    base, changes = PROTOCOLS[request.protocol], {}
    for key, (parse, expected) in OPTIONS.items():
        if key not in options:
            continue
        if parse is None:
            changes[key] = bool_option(options, key)
            continue
        try:
            changes[key] = parse(options[key])
        except ValueError:
            raise UsageError("bad-option", f"--option {key}={options[key]}: expected {expected}") from None
    return replace(base, **changes)


class PifiaEmbedder:
    name = "pifia"
    description = ("PIFiA (Razdaibiedina et al. 2024): CNN trained to classify protein identity; "
                   "last hidden layer (64) averaged per protein")
    version = VERSION
    requires_cells = True
    #: what the network was trained to predict (for the site's label-overlap marks)
    labels = "protein identity"

    def embed(self, request: EmbedRequest) -> Embedding:
        protocol = protocol_for(request)  # option errors before torch is imported
        if request.cells is None:
            raise UsageError("cells-required", "pifia trains on single cells: give --data")
        from .training import embed_with_pifia  # torch is imported only here

        return embed_with_pifia(request, protocol)
