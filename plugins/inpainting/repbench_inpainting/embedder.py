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
1 = published), and the runtime's ``precision`` (fp32|bf16) and ``channels_last`` (true|false).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from repbench.embedders import EmbedRequest, Embedding
from repbench.errors import UsageError

VERSION = "0.1.0"
LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")  # as in .model (which imports torch)
DEFAULT_LAYER = "conv3_1"
OPTIONS = ("layer", "epochs", "lr", "batch_size", "train_cells", "width", "precision", "channels_last")


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


PROTOCOLS = {
    "quick": Protocol("quick", epochs=3, lr=1e-4, batch_size=64, train_cells=1536, width=0.25),
    "paper": Protocol("paper", epochs=30, lr=1e-4, batch_size=64, train_cells=None, width=1.0),
}


def _number(options: dict, key: str, default, kind=int):
    value = options.get(key)
    if value is None:
        return default
    if key == "train_cells" and value == "all":
        return None
    try:
        number = kind(value)
        if not number > 0:
            raise ValueError
    except ValueError:
        expected = "a positive integer" if kind is int else "a positive number"
        raise UsageError("bad-option", f"--option {key}={value}: expected {expected}") from None
    return number


def protocol_for(request: EmbedRequest) -> Protocol:
    """The request's protocol with its ``--option`` overrides applied (bad values: a usage error)."""
    if request.protocol not in PROTOCOLS:
        raise UsageError("bad-protocol", f"--protocol {request.protocol}: expected one of {', '.join(PROTOCOLS)}")
    options = request.options
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise UsageError("unknown-option", f"embedder 'inpainting' has no option {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(OPTIONS)}")
    layer = options.get("layer", DEFAULT_LAYER)
    if layer not in LAYERS:
        raise UsageError("bad-option", f"--option layer={layer}: expected one of {', '.join(LAYERS)}")
    base = PROTOCOLS[request.protocol]
    return replace(base, layer=layer, epochs=_number(options, "epochs", base.epochs),
                   lr=_number(options, "lr", base.lr, float), batch_size=_number(options, "batch_size", base.batch_size),
                   train_cells=_number(options, "train_cells", base.train_cells),
                   width=_number(options, "width", base.width, float))


class InpaintingEmbedder:
    name = "inpainting"
    description = ("Paired Cell Inpainting (Lu et al. 2019): predicts a partner cell's protein channel; "
                   "conv3_1 features, max-pooled, averaged per protein")
    version = VERSION
    requires_cells = True

    def embed(self, request: EmbedRequest) -> Embedding:
        protocol = protocol_for(request)  # option errors before torch is imported
        if request.cells is None:
            raise UsageError("cells-required", "inpainting trains on single cells: give --data")
        from .training import embed_with_inpainting  # torch is imported only here

        return embed_with_inpainting(request, protocol)
