"""Paired Cell Inpainting as a repbench embedder: train the inpainting network on pairs of cells of the
same protein, then read a middle encoder layer of each test-split cell, max-pooled over space, and
average it per protein.

Protocols (``--protocol``):

* ``quick`` (default): the network at a quarter of the published width, 3 epochs of 1,536 source cells
  each (a new random subset of the train split every epoch), batch 64, Adam with the paper's learning
  rate 1e-4 and beta1 0.5. Sized so that ``repbench run -e inpainting`` on the default demo data takes a
  few minutes on a 2-core CPU (docs/embedders.md).
* ``paper`` (Lu et al. 2019 and their code): the published network, 30 epochs over the whole train
  split, batch 64, Adam with learning rate 1e-4 and beta1 0.5.

Both keep the last epoch (the paper trains a fixed number of epochs; the validation inpainting loss is
logged, not used to stop). Checkpoints: every epoch under ``out_dir/checkpoints/<run>/``, so a killed
run resumes where it stopped.

Options (``--option KEY=VALUE``): ``layer`` (conv1_1 .. conv5_1, default conv3_1), ``epochs``, ``lr``,
``batch_size``, ``train_cells`` (source cells per epoch, or ``all``), ``width`` (channel multiplier,
1 = published), the runtime's ``precision`` (fp32|bf16) and ``channels_last`` (true|false), and
``untrained`` (true: the untrained control, the same network and seed with no training step).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from repbench.embedders import TORCH_RUNTIME_OPTIONS, EmbedRequest, Option, parse_options
from repbench.errors import UsageError

VERSION = "0.1.0"
LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")  # as in .model (which imports torch)
DEFAULT_LAYER = "conv3_1"


@dataclass(frozen=True)
class Protocol:
    name: str
    epochs: int
    lr: float
    batch_size: int
    train_cells: int | None  # source cells per epoch; None: the whole train split
    width: float  # channel multiplier of the network; 1.0 = published
    layer: str = DEFAULT_LAYER
    beta1: float = 0.5  # Adam's first-moment decay in the authors' code
    #: the untrained control: initial weights, batch norm recalibrated on training cells, no optimizer step
    untrained: bool = False


PROTOCOLS = {
    "quick": Protocol("quick", epochs=3, lr=1e-4, batch_size=64, train_cells=1536, width=0.25),
    "paper": Protocol("paper", epochs=30, lr=1e-4, batch_size=64, train_cells=None, width=1.0),
}


#: ``--option KEY=VALUE``: checked and typed by the core (repbench.embedders.check_options)
OPTIONS = (
    Option("layer", str, DEFAULT_LAYER, "the encoder layer read out", choices=LAYERS),
    Option("epochs", int, None, "training epochs (default: the protocol's)", positive=True),
    Option("lr", float, None, "Adam learning rate (default: the protocol's)", positive=True),
    Option("batch_size", int, None, "training batch size (default: the protocol's)", positive=True),
    Option(
        "train_cells",
        int,
        None,
        "source cells per epoch, or all (default: the protocol's)",
        positive=True,
        words={"all": None},
    ),
    Option("width", float, None, "channel multiplier, 1 = published (default: the protocol's)", positive=True),
    Option("untrained", bool, False, "the untrained control: initial weights, no training step"),
    *TORCH_RUNTIME_OPTIONS,
)


def protocol_for(request: EmbedRequest) -> Protocol:
    """The request's protocol with its ``--option`` overrides applied (bad values: a usage error)."""
    if request.protocol not in PROTOCOLS:
        raise UsageError("bad-protocol", f"--protocol {request.protocol}: expected one of {', '.join(PROTOCOLS)}")
    options = parse_options("inpainting", OPTIONS, request.options)
    fields = ("layer", "epochs", "lr", "batch_size", "train_cells", "width", "untrained")
    return replace(PROTOCOLS[request.protocol], **{key: options[key] for key in fields if key in options})
