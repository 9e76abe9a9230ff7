"""The PIFiA embedder plugin: ``repbench run --embedder pifia``.

torch is imported only when the embedder runs, so listing plugins stays fast.
"""

import repbench

from .embedder import PifiaEmbedder


@repbench.hookimpl
def register_embedders(register):
    register(PifiaEmbedder())
