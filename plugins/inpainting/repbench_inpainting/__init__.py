"""The Paired Cell Inpainting embedder plugin: ``repbench run --embedder inpainting``.

torch is imported only when the embedder runs, so listing plugins stays fast.
"""

import repbench

from .embedder import InpaintingEmbedder


@repbench.hookimpl
def register_embedders(register):
    register(InpaintingEmbedder())
