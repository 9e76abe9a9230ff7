"""The DeepLoc embedder object (protocols and options: :mod:`.protocol`; training: :mod:`.training`)."""

from __future__ import annotations

from repbench.embedders import Embedding, EmbedRequest
from repbench.errors import UsageError

from .protocol import EVAL_BATCH, OPTIONS, PROTOCOLS, VERSION, Protocol, protocol_for

__all__ = ["EVAL_BATCH", "OPTIONS", "PROTOCOLS", "VERSION", "DeepLocEmbedder", "Protocol", "protocol_for"]


class DeepLocEmbedder:
    name = "deeploc"
    labels = ("localization",)  # trained to classify Huh et al. 2003 localization classes
    description = "DeepLoc CNN trained to classify localization; last hidden layer (512) averaged per protein"
    version = VERSION
    requires_cells = True
    options = OPTIONS

    def embed(self, request: EmbedRequest) -> Embedding:
        from .training import embed_with_deeploc  # torch is imported only here

        if request.cells is None:
            raise UsageError("cells-required", "deeploc trains on single cells: give --data")
        return embed_with_deeploc(request, protocol_for(request))
