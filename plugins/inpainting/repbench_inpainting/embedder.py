"""The Paired Cell Inpainting embedder (protocol and options: :mod:`.protocol`; training: :mod:`.training`)."""

from __future__ import annotations

from repbench.embedders import Embedding, EmbedRequest
from repbench.errors import UsageError

from .protocol import DEFAULT_LAYER, LAYERS, OPTIONS, PROTOCOLS, VERSION, Protocol, protocol_for

__all__ = [
    "DEFAULT_LAYER",
    "LAYERS",
    "OPTIONS",
    "PROTOCOLS",
    "VERSION",
    "InpaintingEmbedder",
    "Protocol",
    "protocol_for",
]


class InpaintingEmbedder:
    name = "inpainting"
    labels = ("protein-identity",)  # pairs of cells of the same protein
    description = (
        "Paired Cell Inpainting (Lu et al. 2019): predicts a partner cell's protein channel; "
        "conv3_1 features, max-pooled, averaged per protein"
    )
    version = VERSION
    requires_cells = True
    options = OPTIONS

    def embed(self, request: EmbedRequest) -> Embedding:
        protocol = protocol_for(request)  # option errors before torch is imported
        if request.cells is None:
            raise UsageError("cells-required", "inpainting trains on single cells: give --data")
        from .training import embed_with_inpainting  # torch is imported only here

        return embed_with_inpainting(request, protocol)
