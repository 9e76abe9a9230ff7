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

from repbench_deeploc.protocol import CLASSIFIER_OPTIONS

from repbench.embedders import TORCH_RUNTIME_OPTIONS, Embedding, EmbedRequest, Option, parse_options
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


#: ``--option KEY=VALUE``: checked and typed by the core (repbench.embedders.check_options); each overrides
#: the protocol field of the same name
OPTIONS = (
    Option("epochs", int, None, "training epochs (default: the protocol's)", positive=True),
    Option("lr", float, None, "initial Adam learning rate, cosine decay to 0 (default: the protocol's)", positive=True),
    *CLASSIFIER_OPTIONS,  # batch_size, train_cells, val_cells, bn_cells, untrained: as DeepLoc's run takes them
    Option(
        "width",
        float,
        None,
        "channel multiplier of the convolutions, 1 = published (default: the protocol's)",
        positive=True,
    ),
    Option("dropout", float, None, "dropout before the classifier, in [0, 1) (default: 0.02)"),
    Option("rfp", bool, False, "also feed the marker (RFP) channel; the authors use GFP alone"),
    *TORCH_RUNTIME_OPTIONS,
)
FIELDS = ("epochs", "lr", "batch_size", "train_cells", "val_cells", "width", "dropout", "bn_cells", "rfp", "untrained")


def protocol_for(request: EmbedRequest) -> Protocol:
    """The request's protocol with its ``--option`` overrides applied (bad values: a usage error)."""
    if request.protocol not in PROTOCOLS:
        raise UsageError("bad-protocol", f"--protocol {request.protocol}: expected one of {', '.join(PROTOCOLS)}")
    options = parse_options("pifia", OPTIONS, request.options)
    if not 0 <= options.get("dropout", 0) < 1:
        raise UsageError("bad-option", f"--option dropout={request.options['dropout']}: expected a number in [0, 1)")
    return replace(PROTOCOLS[request.protocol], **{key: options[key] for key in FIELDS if key in options})


class PifiaEmbedder:
    name = "pifia"
    labels = ("protein-identity",)  # trained to tell which protein a cell shows
    description = (
        "PIFiA (Razdaibiedina et al. 2024): CNN trained to classify protein identity; "
        "last hidden layer (64) averaged per protein"
    )
    version = VERSION
    requires_cells = True
    options = OPTIONS

    def embed(self, request: EmbedRequest) -> Embedding:
        protocol = protocol_for(request)  # option errors before torch is imported
        if request.cells is None:
            raise UsageError("cells-required", "pifia trains on single cells: give --data")
        from .training import embed_with_pifia  # torch is imported only here

        return embed_with_pifia(request, protocol)
