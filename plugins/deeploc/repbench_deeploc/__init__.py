"""The DeepLoc embedder plugin: ``repbench run --embedder deeploc``.

torch is imported only when the embedder runs, so listing plugins stays fast.
"""

import repbench

from .embedder import DeepLocEmbedder


@repbench.hookimpl
def register_embedders(register):
    register(DeepLocEmbedder())
